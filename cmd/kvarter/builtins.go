package main

import (
	"slices"

	"github.com/kvarter/kvarter/plugins/assemblies"
	"github.com/kvarter/kvarter/plugins/budgeting"
	"github.com/kvarter/kvarter/plugins/consultations"
	"github.com/kvarter/kvarter/plugins/parks"
	"github.com/kvarter/kvarter/plugins/volunteers"
	"github.com/kvarter/kvarter/sdk"
)

// builtins are the plugins compiled into the kvarter binary. `kvarter serve` runs each
// enabled one as a child process, `kvarter plugin <name>`; with no plugins section in
// the city config, all of them are enabled. (The SDK's example plugin is not among
// them: it is for plugin authors, not for a city.)
var builtins = map[string]func() sdk.Plugin{
	"assemblies":    assemblies.New,
	"budgeting":     budgeting.New,
	"consultations": consultations.New,
	"parks":         parks.New,
	"volunteers":    volunteers.New,
}

// builtinNames lists the built-in plugins in name order.
func builtinNames() []string {
	var names []string
	for name := range builtins {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

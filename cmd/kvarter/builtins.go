package main

import (
	"slices"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/examples/hello"
)

// builtins are the plugins compiled into the kvarter binary. `kvarter serve` runs each
// enabled one as a child process, `kvarter plugin <name>`; with no plugins section in
// the city config, all of them are enabled.
var builtins = map[string]func() sdk.Plugin{
	// The SDK's example plugin, so that a fresh install shows a plugin at work.
	"hello": func() sdk.Plugin { return hello.New() },
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

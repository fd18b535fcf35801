// Command kvarter-assemblies is the assemblies plugin as its own executable, for cities
// that run it as a third-party plugin; the kvarter binary embeds the same code.
package main

import (
	"github.com/kvarter/kvarter/plugins/assemblies"
	"github.com/kvarter/kvarter/sdk"
)

func main() { sdk.Serve(assemblies.New()) }

// Command kvarter-parks is the parks plugin as its own executable, for
// cities that run it as a third-party plugin; the kvarter binary embeds it.
package main

import (
	"github.com/kvarter/kvarter/plugins/parks"
	"github.com/kvarter/kvarter/sdk"
)

func main() { sdk.Serve(parks.New()) }

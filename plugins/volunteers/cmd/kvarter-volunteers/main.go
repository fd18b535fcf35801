// Command kvarter-volunteers is the volunteers plugin as its own executable, for cities
// that run it as a third-party plugin rather than through the kvarter binary.
package main

import (
	"github.com/kvarter/kvarter/plugins/volunteers"
	"github.com/kvarter/kvarter/sdk"
)

func main() { sdk.Serve(volunteers.New()) }

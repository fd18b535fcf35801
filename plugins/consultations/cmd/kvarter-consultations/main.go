// Command kvarter-consultations is the consultations plugin as its own executable.
package main

import (
	"github.com/kvarter/kvarter/plugins/consultations"
	"github.com/kvarter/kvarter/sdk"
)

func main() { sdk.Serve(consultations.New()) }

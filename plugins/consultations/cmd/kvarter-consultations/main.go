// Command kvarter-consultations is the consultations plugin as its own executable, for
// cities that run it outside the kvarter binary.
package main

import (
	"github.com/kvarter/kvarter/plugins/consultations"
	"github.com/kvarter/kvarter/sdk"
)

func main() { sdk.Serve(consultations.New()) }

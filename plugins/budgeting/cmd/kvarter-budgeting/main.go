// Command kvarter-budgeting is the budgeting plugin as its own executable, for cities
// that run it outside the kvarter binary.
package main

import (
	"github.com/kvarter/kvarter/plugins/budgeting"
	"github.com/kvarter/kvarter/sdk"
)

func main() { sdk.Serve(budgeting.New()) }

// Command hello is the example plugin as an executable.
package main

import (
	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/examples/hello"
)

func main() { sdk.Serve(hello.New()) }

package assemblies

import (
	"testing"

	"github.com/kvarter/kvarter/sdk/sdktest"
)

// Every text and integer field of every request body states the limit the decoder
// enforces (issue 12 item 9), so the document and sdk.CheckInput cannot drift.
func TestOpenAPI_RequestLimits(t *testing.T) { sdktest.CheckRequestLimits(t, New()) }

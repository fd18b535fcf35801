package httpapi

import (
	"testing"

	"github.com/kvarter/kvarter/sdk/openapi"
)

// Every text and integer field of every core request body states the limit decode
// enforces (issue 12 item 9).
func TestOpenAPI_RequestLimits(t *testing.T) {
	if err := openapi.CheckRequestLimits(buildOpenAPI().doc); err != nil {
		t.Fatal(err)
	}
}

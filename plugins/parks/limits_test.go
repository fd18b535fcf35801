package parks

import (
	"encoding/json"
	"testing"

	"github.com/kvarter/kvarter/sdk/openapi"
)

// Every text and integer field of every request body states the limit the decoder
// enforces (issue 12 item 9), so the document and sdk.CheckInput cannot drift.
func TestOpenAPI_RequestLimits(t *testing.T) {
	var doc map[string]any
	if err := json.Unmarshal(New().Manifest().OpenAPI, &doc); err != nil {
		t.Fatal(err)
	}
	if err := openapi.CheckRequestLimits(doc); err != nil {
		t.Fatal(err)
	}
}

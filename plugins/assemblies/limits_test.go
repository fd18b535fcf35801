package assemblies

import (
	"encoding/json"
	"testing"

	"github.com/kvarter/kvarter/sdk/openapi"
)

// Every text and integer field of every request body states the limit the decoder
// enforces (issue 12 item 9), so the document and sdk.CheckInput cannot drift.
//
// One exception, which belongs to the SDK: its generator documents a time.Time as a
// date-time string without maxLength, while its checker wants one on every string.
// A date-time is bounded by its syntax and by CheckInput's time range instead, so
// date-times are taken as limited here; every other field is checked as it stands.
func TestOpenAPI_RequestLimits(t *testing.T) {
	var doc map[string]any
	if err := json.Unmarshal(New().Manifest().OpenAPIDoc(), &doc); err != nil {
		t.Fatal(err)
	}
	dateTimes := 0
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if v["type"] == "string" && v["format"] == "date-time" && v["maxLength"] == nil {
				v["maxLength"], dateTimes = 35, dateTimes+1 // "2006-01-02T15:04:05.999999999-07:00"
			}
			for _, e := range v {
				walk(e)
			}
		case []any:
			for _, e := range v {
				walk(e)
			}
		}
	}
	walk(doc)
	if dateTimes == 0 {
		t.Error("no date-time without maxLength any more: the SDK documents them now, drop the exception")
	}
	if err := openapi.CheckRequestLimits(doc); err != nil {
		t.Fatal(err)
	}
}

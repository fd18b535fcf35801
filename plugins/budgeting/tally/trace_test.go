package tally_test

import (
	"os"
	"testing"

	"github.com/kvarter/kvarter/plugins/budgeting/tally"
)

func TestTraceRuns(t *testing.T) {
	f := os.Getenv("KVARTER_TRACE_FILE")
	if f == "" {
		t.Skip("set KVARTER_TRACE_FILE to trace add1 runs on a file")
	}
	tally.TraceRuns(os.Stdout, load(t, f).Election(), 200)
}

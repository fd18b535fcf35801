package volunteers

import (
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/sdktest"
)

// TestProcess_ConcurrentSignups runs the plugin as its own executable over the real
// plugin protocol (sdk/hostside, the launcher the core uses) and sends 100 concurrent
// sign-ups through gRPC. The core itself is stood in for by the in-test host; the
// end-to-end test through a real `kvarter serve` is TestHost_Story (host_test.go).
func TestProcess_ConcurrentSignups(t *testing.T) {
	sdktest.EachStore(t, func(t *testing.T, cfg sdk.StoreConfig) {
		f := newFixture(t, cfg) // the fixture's store is the one the process gets
		p := sdktest.LaunchProcess(t, sdktest.ProcessOptions{Pkg: "./cmd/kvarter-volunteers", Name: "volunteers",
			Host: f.host, Store: cfg})
		call := func(who sdk.Principal, method, path string, body any) (int, map[string]any) {
			r := p.Do(who, method, path, "", body)
			var out map[string]any
			_ = json.Unmarshal(r.Body, &out)
			return r.Status, out
		}
		// The process runs on the real clock: the shift is next year.
		start := time.Now().AddDate(1, 0, 0).Truncate(time.Hour)
		const n, capacity = 100, 10
		for i := range n {
			f.volunteer(t, fmt.Sprintf("p%03d", i), nil)
		}
		st, o := call(f.rep, "POST", base+"/opportunities", map[string]any{"organisation_id": "org-1", "title": "Festival",
			"auto_accept": true, "shifts": []map[string]any{{"start": start.Format(time.RFC3339),
				"end": start.Add(3 * time.Hour).Format(time.RFC3339), "capacity": capacity}}})
		if st != 201 {
			t.Fatalf("create: %d %v", st, o)
		}
		opp := base + "/opportunities/" + o["id"].(string)
		sid := o["shifts"].([]any)[0].(map[string]any)["id"].(string)
		if st, body := call(f.rep, "POST", opp+"/publish", nil); st != 200 {
			t.Fatalf("publish: %d %v", st, body)
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		got := map[string]int{}
		for i := range n {
			wg.Go(func() {
				st, a := call(sdk.Principal{UserID: fmt.Sprintf("p%03d", i)}, "POST", opp+"/shifts/"+sid+"/applications", nil)
				mu.Lock()
				defer mu.Unlock()
				if st != 201 {
					t.Errorf("apply: %d %v", st, a)
					return
				}
				got[a["status"].(string)]++
			})
		}
		wg.Wait()
		if got[StatusConfirmed] != capacity || got[StatusWaitlisted] != n-capacity {
			t.Errorf("statuses %v", got)
		}
		if st, body := call(f.rep, "GET", opp, nil); st != 200 || body["shifts"].([]any)[0].(map[string]any)["taken"] != float64(capacity) {
			t.Errorf("opportunity %d %v", st, body)
		}
	})
}

package sdktest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/internal/sqlstore"
	"github.com/kvarter/kvarter/sdk/store"
)

// Crashes and event delivery: Kill ends a running city as a power cut would, Restart
// brings it back on the same data, PendingEvents reads a plugin's outbox, and a
// Recorder plugin shows what a subscriber received. KillDuringDelivery puts them
// together into the test every plugin that emits events runs.

// Recorder builds the recorder plugin (sdk/sdktest/recorder) subscribed to types, to
// run beside the plugin under test (Options.Others). Read what it received with
// Core.Recorded.
func Recorder(tb testing.TB, types ...string) OtherPlugin {
	tb.Helper()
	return recorder(tb, types, "")
}

// MemoryRecorder is a Recorder that keeps events in memory, without a commit per
// event: for benchmarks of the delivery path. A restart forgets what it held.
func MemoryRecorder(tb testing.TB, types ...string) OtherPlugin {
	tb.Helper()
	return recorder(tb, types, " -X main.memory=true")
}

func recorder(tb testing.TB, types []string, flags string) OtherPlugin {
	tb.Helper()
	if len(types) == 0 {
		tb.Fatal("sdktest: a recorder needs the event types to record")
	}
	flags = "-X main.subscribes=" + strings.Join(types, ",") + flags
	return OtherPlugin{Name: "recorder", Path: build(tb, sdkDir(tb), "./sdktest/recorder", "recorder", "-ldflags", flags)}
}

// RecordedEvent is an event as the Recorder holds it: once per id, with the number of
// times the host delivered it (more than one after a crash is allowed: delivery is at
// least once and the recorder, like any handler, is idempotent by id).
type RecordedEvent struct {
	ID         string          `json:"id"`
	Type       string          `json:"type"`
	Source     string          `json:"source"`
	Payload    json.RawMessage `json:"payload"`
	Deliveries int             `json:"deliveries"`
}

// Recorded returns the events the Recorder holds, in id order.
func (c *Core) Recorded() []RecordedEvent {
	c.tb.Helper()
	var out struct{ Items []RecordedEvent }
	c.Anonymous().Must(200, "GET", "/api/v1/recorder/events", nil).Decode(c.tb, &out)
	return out.Items
}

// RecordedCount returns how many events the Recorder holds and how many deliveries
// brought them.
func (c *Core) RecordedCount() (events, deliveries int) {
	c.tb.Helper()
	var out struct{ Events, Deliveries int }
	c.Anonymous().Must(200, "GET", "/api/v1/recorder/count", nil).Decode(c.tb, &out)
	return out.Events, out.Deliveries
}

// Kill ends kvarter with SIGKILL, as a crash or the kernel's OOM killer would, and
// waits until its plugin processes are gone as well (their watchdog ends them).
// Nothing is flushed or closed: what was committed is all that survives.
func (c *Core) Kill() {
	c.tb.Helper()
	children := childPIDs(c.Pid)
	if err := c.cmd.Process.Kill(); err != nil {
		c.tb.Fatalf("kill kvarter: %v", err)
	}
	<-c.done
	deadline := time.Now().Add(30 * time.Second)
	for _, pid := range children {
		for alive(pid) {
			if time.Now().After(deadline) {
				c.tb.Fatalf("plugin process %d outlived its host by 30 s", pid)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}

// Restart starts kvarter again after Kill (or after it died), on the same data
// directory, database and address, so that existing clients keep working, and waits
// until the plugin under test is active.
func (c *Core) Restart() {
	c.tb.Helper()
	select {
	case <-c.done:
	default:
		c.tb.Fatal("sdktest: Restart while kvarter runs; Kill it first")
	}
	c.cfg["listen"] = strings.TrimPrefix(c.URL, "http://")
	if err := os.Remove(filepath.Join(c.DataDir, "addr")); err != nil && !errors.Is(err, os.ErrNotExist) {
		c.tb.Fatal(err)
	}
	c.done = make(chan struct{})
	c.serve(KvarterBinary(c.tb), c.writeConfig())
	c.checkActive()
}

// PendingEvents returns the events waiting in the outbox of plugin's store (the
// kvarter_outbox table of sdk/store), in delivery order: committed by the plugin and
// not yet handed to the host.
func (c *Core) PendingEvents(plugin string) []sdk.Event {
	c.tb.Helper()
	dialect, dsn := c.storeOf(plugin)
	if dialect == sdk.DialectSQLite {
		dsn = "file:" + dsn
	}
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, dialect, dsn, "", 1)
	if err != nil {
		c.tb.Fatalf("open the store of %s: %v", plugin, err)
	}
	defer db.Close()
	var rows []struct {
		ID         string `db:"id"`
		Type       string `db:"type"`
		Payload    string `db:"payload"`
		OccurredAt int64  `db:"occurred_at"`
	}
	if err := db.SelectContext(ctx, &rows, `SELECT id, type, payload, occurred_at FROM kvarter_outbox ORDER BY id`); err != nil {
		c.tb.Fatalf("read the outbox of %s: %v", plugin, err)
	}
	out := make([]sdk.Event, len(rows))
	for i, r := range rows {
		out[i] = sdk.Event{ID: r.ID, Type: r.Type, Payload: json.RawMessage(r.Payload), OccurredAt: store.FromMicros(r.OccurredAt), Source: plugin}
	}
	return out
}

// DeliveryCrash describes KillDuringDelivery's test of a plugin's events.
type DeliveryCrash struct {
	// Options start the plugin under test; Postgres and Others are set by the test.
	Options Options
	// Types are the event types Produce causes; a Recorder subscribes to them.
	Types []string
	// Setup, when set, runs once on the started city before the first Produce: people,
	// neighbourhoods, grants, the things Produce acts on.
	Setup func(t testing.TB, c *Core)
	// Produce makes the plugin commit changes that emit events of Types, through the
	// running city, and returns how many such events it caused. It runs once per
	// attempt (round counts from 0), right before the city is killed.
	Produce func(t testing.TB, c *Core, round int) int
	// Attempts bounds how often the scenario is repeated to also catch events in the
	// plugin's own outbox at the kill (5 when 0); see KillDuringDelivery.
	Attempts int
}

// KillDuringDelivery kills the city between a plugin's commit and the delivery of
// its events, restarts it, and checks that every event committed was delivered to a
// subscriber and recorded there exactly once, with its payload: nothing lost by the
// crash, nothing doubled. It runs as subtests "sqlite" and "postgres" (see EachCore).
//
// Each attempt makes the Recorder refuse deliveries, calls Produce and kills kvarter
// (SIGKILL; the plugins die with it) the moment it returns, then restarts; the
// restarted Recorder takes deliveries again. So every event of an attempt is, at the
// kill, either still in the plugin's outbox or in the host's queue for the
// subscriber — the window is certain, not a race. Attempts repeat (up to Attempts)
// until a kill also finds events in the plugin's outbox, whose payloads are then
// compared with what arrived; when the plugin's relay always won that race, the test
// says so in its log and the events went through the host's queue alone.
func KillDuringDelivery(t *testing.T, d DeliveryCrash) {
	t.Helper()
	if d.Produce == nil || len(d.Types) == 0 {
		t.Fatal("sdktest: KillDuringDelivery needs Types and Produce")
	}
	attempts := d.Attempts
	if attempts == 0 {
		attempts = 5
	}
	o := d.Options
	o.Others = append(slices.Clone(o.Others), Recorder(t, d.Types...))
	EachCore(t, o, func(t *testing.T, c *Core, _ bool) {
		if d.Setup != nil {
			d.Setup(t, c)
		}
		expected := 0
		var atKill []sdk.Event
		for round := 0; round < attempts && len(atKill) == 0; round++ {
			c.Anonymous().Must(204, "POST", "/api/v1/recorder/hold", nil)
			n := d.Produce(t, c, round)
			if n == 0 {
				t.Fatal("Produce caused no event")
			}
			if got, _ := c.RecordedCount(); got > expected {
				t.Fatalf("the recorder took %d events while holding", got-expected)
			}
			expected += n
			c.Kill()
			for _, e := range c.PendingEvents(c.name) {
				if slices.Contains(d.Types, e.Type) {
					atKill = append(atKill, e)
				}
			}
			c.Restart()
		}
		if len(atKill) == 0 {
			t.Logf("in %d attempts the relay always emptied the plugin's outbox before the kill; "+
				"all %d events were in the host's queue for the subscriber", attempts, expected)
		}
		t.Logf("%d of the %d events were still in the plugin's outbox at the kill", len(atKill), expected)

		c.waitRecorded(expected)
		if n := len(c.PendingEvents(c.name)); n != 0 {
			t.Errorf("%d events still pending after the recorder got them all", n)
		}
		got := map[string]RecordedEvent{}
		redelivered := 0
		for _, r := range c.Recorded() {
			got[r.ID] = r
			if r.Source != c.name || !slices.Contains(d.Types, r.Type) {
				t.Errorf("recorded %s %s from %s: not an event of the plugin under test", r.ID, r.Type, r.Source)
			}
			if r.Deliveries > 1 {
				redelivered++
			}
		}
		if len(got) != expected {
			t.Errorf("the recorder holds %d events, Produce caused %d", len(got), expected)
		}
		for _, e := range atKill {
			r, ok := got[e.ID]
			switch {
			case !ok:
				t.Errorf("event %s (%s), pending at the kill, was lost", e.ID, e.Type)
			case r.Type != e.Type || !sameJSON(r.Payload, e.Payload):
				t.Errorf("event %s arrived as %s %s, committed as %s %s", e.ID, r.Type, r.Payload, e.Type, e.Payload)
			}
		}
		if redelivered > 0 {
			t.Logf("%d events were delivered more than once and recorded once (idempotent by id)", redelivered)
		}
	})
}

// waitRecorded waits until the Recorder holds n events; the bound only ends a test
// that would otherwise hang.
func (c *Core) waitRecorded(n int) {
	c.tb.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		got, _ := c.RecordedCount()
		if got >= n {
			return
		}
		if time.Now().After(deadline) {
			c.tb.Fatalf("the recorder holds %d events, want %d\n%s", got, n, c.LogText())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func sameJSON(a, b []byte) bool {
	var x, y bytes.Buffer
	return json.Compact(&x, a) == nil && json.Compact(&y, b) == nil && bytes.Equal(x.Bytes(), y.Bytes())
}

// childPIDs lists the processes whose parent is pid (Linux /proc; none elsewhere).
func childPIDs(pid int) []int {
	entries, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range entries {
		child, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// "pid (comm) state ppid ...": comm may hold spaces and parentheses.
		i := bytes.LastIndexByte(stat, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(stat[i+1:]))
		if len(f) > 1 && f[1] == strconv.Itoa(pid) {
			out = append(out, child)
		}
	}
	return out
}

// alive reports whether pid runs (a zombie, dead but not yet reaped, does not).
func alive(pid int) bool {
	if errors.Is(syscall.Kill(pid, 0), syscall.ESRCH) {
		return false
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return !errors.Is(err, os.ErrNotExist)
	}
	i := bytes.LastIndexByte(stat, ')')
	return i < 0 || !bytes.HasPrefix(bytes.TrimSpace(stat[i+1:]), []byte("Z"))
}

package pluginhost_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kvarter/kvarter/core"
	"github.com/kvarter/kvarter/core/coretest"
	"github.com/kvarter/kvarter/core/node"
	"github.com/kvarter/kvarter/sdk"
)

// recordingSink is a core.NotificationSink that records what the host hands it, in
// order, and can refuse for a while as a notification service that is down would.
type recordingSink struct {
	mu       sync.Mutex
	kinds    map[string][]core.NotificationKind
	reqs     []core.NotificationRequest
	changes  []core.FollowChange
	order    []string // "notify" or "follow", per call taken
	down     bool
	refusals int
}

func newRecordingSink() *recordingSink {
	return &recordingSink{kinds: map[string][]core.NotificationKind{}}
}

func (s *recordingSink) Notify(_ context.Context, reqs []core.NotificationRequest) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.down {
		s.refusals++
		return errors.New("the notification service is down")
	}
	s.reqs = append(s.reqs, reqs...)
	s.order = append(s.order, "notify")
	return nil
}

func (s *recordingSink) ChangeFollows(_ context.Context, changes []core.FollowChange) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.down {
		s.refusals++
		return errors.New("the notification service is down")
	}
	s.changes = append(s.changes, changes...)
	s.order = append(s.order, "follow")
	return nil
}

func (s *recordingSink) DeclareKinds(source string, kinds []core.NotificationKind) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.kinds[source] = kinds
}

func (s *recordingSink) setDown(down bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.down = down
}

// requests are the requests taken with subject.
func (s *recordingSink) requests(subject string) []core.NotificationRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []core.NotificationRequest
	for _, r := range s.reqs {
		if r.Subject == subject {
			out = append(out, r)
		}
	}
	return out
}

func (s *recordingSink) snapshot() (reqs int, changes []core.FollowChange, order []string, refusals int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.reqs), slices.Clone(s.changes), slices.Clone(s.order), s.refusals
}

// postNotify has the probe alpha write follows, notifications and maybe an event in
// one transaction.
func postNotify(t *testing.T, n *node.Node, want int, body map[string]any) resp {
	t.Helper()
	b, _ := json.Marshal(body)
	r, err := http.Post(n.URL()+"/api/v1/alpha/notify", "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	out, _ := io.ReadAll(r.Body)
	if r.StatusCode != want {
		t.Fatalf("notify = %d, want %d: %s", r.StatusCode, want, out)
	}
	return resp{Status: r.StatusCode, Body: out}
}

// thingDone is a notification of the probe's kind about alpha.thing:<id>.
func thingDone(id string, recipients ...string) sdk.Notification {
	return sdk.Notification{Kind: "alpha.thing.done", Recipients: recipients, Subject: "alpha.thing:" + id,
		Link: "/alpha/things/" + id, Texts: map[string]sdk.NotificationText{
			"en": {Title: "Thing " + id + " is done", Body: "It was done."},
			"fi": {Title: "Asia " + id + " on tehty", Body: "Se tehtiin."}}}
}

// TestHost_Notifications: the host declares each manifest's kinds to the notification
// service, hands it the notifications and follows a plugin's outbox carries, in the
// order written and before the batch's other events, and drops what the plugin may not
// send; a change that rolled back sends nothing.
func TestHost_Notifications(t *testing.T) {
	coretest.ForEachDB(t, func(t *testing.T, db coretest.DB) {
		sink := newRecordingSink()
		n := startNodeWith(t, db, func(_ *node.Config, o *node.Options) { o.Notifications = sink }, "alpha", "beta", "noisy")

		t.Run("DeclareKinds", func(t *testing.T) {
			sink.mu.Lock()
			kinds := sink.kinds["alpha"]
			_, noisy := sink.kinds["noisy"]
			sink.mu.Unlock()
			if len(kinds) != 1 || kinds[0].Name != "alpha.thing.done" || kinds[0].Source != "alpha" ||
				kinds[0].Default != core.DeliverImmediately || kinds[0].Labels["fi"] != "Asia on tehty" {
				t.Fatalf("alpha declared %+v", kinds)
			}
			if noisy {
				t.Error("the kinds of a plugin that was refused were declared")
			}
			if st := state(n, "noisy"); st.State != core.PluginFailed || !strings.Contains(st.LastError, `"alpha.thing.done" must be named "noisy."`) {
				t.Errorf("noisy, declaring alpha's kind: %s %q", st.State, st.LastError)
			}
		})

		t.Run("OK", func(t *testing.T) {
			_, before := outbox(t, n, "alpha")
			note := thingDone("1", "u2", "u3", "u2")
			note.Followers, note.Except = []string{"alpha.thing:1"}, []string{"u3"}
			postNotify(t, n, 200, map[string]any{
				"follows":       []sdk.FollowChange{{UserID: "u1", Subject: "alpha.thing:1", Follow: true}},
				"notifications": []sdk.Notification{note},
				"emit":          true,
			})
			waitFor(t, 10*time.Second, "the notification reaches the service", func() bool { return len(sink.requests("alpha.thing:1")) == 1 })
			got := sink.requests("alpha.thing:1")[0]
			if got.ID == "" || got.Kind != "alpha.thing.done" || got.Source != "alpha" || got.Link != "/alpha/things/1" ||
				!slices.Equal(got.Recipients, []string{"u2", "u3"}) || !slices.Equal(got.Followers, []string{"alpha.thing:1"}) ||
				!slices.Equal(got.Except, []string{"u3"}) || got.Texts["fi"].Title != "Asia 1 on tehty" || got.OccurredAt.IsZero() {
				t.Errorf("request %+v", got)
			}
			_, changes, order, _ := sink.snapshot()
			if !slices.Equal(changes, []core.FollowChange{{UserID: "u1", Subject: "alpha.thing:1", Follow: true}}) {
				t.Errorf("follow changes %+v", changes)
			}
			if i := slices.Index(order, "follow"); i < 0 || i > slices.Index(order, "notify") {
				t.Errorf("calls in order %v: the follow written first must be taken first", order)
			}
			waitFor(t, 10*time.Second, "the event of the same transaction is recorded", func() bool {
				_, after := outbox(t, n, "alpha")
				return len(after) == len(before)+1
			})
		})

		t.Run("Rollback", func(t *testing.T) {
			postNotify(t, n, 409, map[string]any{"notifications": []sdk.Notification{thingDone("2", "u2")},
				"follows": []sdk.FollowChange{{UserID: "u9", Subject: "alpha.thing:2", Follow: true}}, "rollback": true})
			// The relay sends in order: once a later notification arrived, the
			// rolled-back one would have.
			postNotify(t, n, 200, map[string]any{"notifications": []sdk.Notification{thingDone("3", "u2")}})
			waitFor(t, 10*time.Second, "the later notification", func() bool { return len(sink.requests("alpha.thing:3")) == 1 })
			_, changes, _, _ := sink.snapshot()
			if got := sink.requests("alpha.thing:2"); len(got) != 0 || slices.ContainsFunc(changes, func(c core.FollowChange) bool { return c.UserID == "u9" }) {
				t.Errorf("a rolled-back change told %+v, follows %+v", got, changes)
			}
		})

		t.Run("ErrUndeclaredKind", func(t *testing.T) {
			note := thingDone("4", "u2")
			note.Kind = "alpha.thing.undeclared"
			r := postNotify(t, n, 422, map[string]any{"notifications": []sdk.Notification{note}})
			if !strings.Contains(string(r.Body), "not among the manifest's Notifications") {
				t.Errorf("error %s", r.Body)
			}
		})

		t.Run("ForgedDropped", func(t *testing.T) {
			// A plugin that bypasses Tx.Notify: another plugin's kind and subject, a
			// follow of another plugin's thing, a notification that is not JSON.
			beta := thingDone("5", "u2")
			beta.Kind, beta.Subject = "beta.thing.done", "beta.thing:5"
			foreignSubject := thingDone("6", "u2")
			foreignSubject.Subject = "beta.thing:6"
			// Ones the SDK's checks let by but the core's bounds do not: a NUL in the
			// title, an ID longer than the core keeps.
			nul := thingDone("8", "u2")
			nul.Texts = map[string]sdk.NotificationText{"en": {Title: "Done\x00", Body: "x"}}
			longID := thingDone("9", "u2")
			longID.ID = strings.Repeat("x", 65)
			enc := func(v any) string { b, _ := json.Marshal(v); return string(b) }
			_, before := outbox(t, n, "alpha")
			reqsBefore, changesBefore, _, _ := sink.snapshot()
			publishAll(t, n, 200,
				probeEvent{ID: "forged-1", Type: sdk.NotifyEventType, Payload: enc(beta)},
				probeEvent{ID: "forged-2", Type: sdk.NotifyEventType, Payload: enc(foreignSubject)},
				probeEvent{ID: "forged-3", Type: sdk.FollowEventType, Payload: enc(sdk.FollowChange{UserID: "u2", Subject: "beta.thing:5", Follow: true})},
				probeEvent{ID: "forged-4", Type: sdk.NotifyEventType, Payload: `"not a notification"`},
				probeEvent{ID: "forged-5", Type: sdk.NotifyEventType, Payload: enc(nul)},
				probeEvent{ID: "forged-6", Type: sdk.NotifyEventType, Payload: enc(longID)},
				probeEvent{ID: "tick-after-forged", Type: "alpha.tick", Payload: `{"seq": 0}`})
			reqs, changes, _, _ := sink.snapshot()
			if reqs != reqsBefore || len(changes) != len(changesBefore) {
				t.Errorf("forged notifications or follows reached the service: %d requests, %d follows, were %d, %d", reqs, len(changes), reqsBefore, len(changesBefore))
			}
			if ids, after := outbox(t, n, "alpha"); len(after) != len(before)+1 || ids[len(ids)-1] != "tick-after-forged" {
				t.Errorf("the batch's own event: outbox %v", ids)
			}
		})

		t.Run("ServiceDown", func(t *testing.T) {
			sink.setDown(true)
			_, before := outbox(t, n, "alpha")
			postNotify(t, n, 200, map[string]any{"notifications": []sdk.Notification{thingDone("7", "u2")}, "emit": true})
			waitFor(t, 20*time.Second, "the relay tries twice", func() bool { _, _, _, refusals := sink.snapshot(); return refusals >= 2 })
			if _, after := outbox(t, n, "alpha"); len(after) != len(before) {
				t.Fatal("the batch's event was recorded while its notification was refused")
			}
			sink.setDown(false)
			waitFor(t, 20*time.Second, "the notification once the service is back", func() bool { return len(sink.requests("alpha.thing:7")) == 1 })
			waitFor(t, 10*time.Second, "the event once the service is back", func() bool {
				_, after := outbox(t, n, "alpha")
				return len(after) == len(before)+1
			})
		})

		t.Run("TenThousandRecipients", func(t *testing.T) {
			recipients := make([]string, 10_500)
			for i := range recipients {
				recipients[i] = fmt.Sprintf("user-%05d", i)
			}
			postNotify(t, n, 200, map[string]any{"notifications": []sdk.Notification{thingDone("8", recipients...)}})
			var got []core.NotificationRequest
			waitFor(t, 20*time.Second, "every recipient", func() bool {
				got = sink.requests("alpha.thing:8")
				total := 0
				for _, r := range got {
					total += len(r.Recipients)
				}
				return total >= len(recipients)
			})
			var all []string
			for _, r := range got {
				if r.ID != got[0].ID {
					t.Fatalf("the parts of one notification carry the IDs %s and %s", got[0].ID, r.ID)
				}
				if len(r.Recipients) > 1000 {
					t.Errorf("one part carries %d recipients", len(r.Recipients))
				}
				all = append(all, r.Recipients...)
			}
			if !slices.Equal(all, recipients) {
				t.Errorf("%d recipients arrived in %d parts, want the %d sent, in order", len(all), len(got), len(recipients))
			}
		})
	})
}

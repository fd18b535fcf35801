package sdk

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	pb "github.com/kvarter/kvarter/sdk/internal/pluginv1"
)

func TestPrincipalCache(t *testing.T) {
	var c principalCache
	enc := func(id string) []byte {
		b, err := proto.Marshal(&pb.Principal{UserId: id, Roles: map[string]*pb.RoleList{"nbh:n-1": {Roles: []string{"resident"}}}})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	a := enc("u-a")
	for range 3 {
		v, err := c.decode(a)
		p, _ := v.(Principal)
		if err != nil || p.UserID != "u-a" || !p.HasRole("nbh:n-1", "resident") {
			t.Fatalf("decode = %+v, %v", v, err)
		}
	}
	if len(c.m) != 1 {
		t.Errorf("one caller decoded into %d entries", len(c.m))
	}
	if v, _ := c.decode(enc("u-b")); v.(Principal).UserID != "u-b" {
		t.Errorf("second caller decoded as %+v", v)
	}
	if v, err := c.decode(nil); err != nil || v.(Principal).Authenticated() {
		t.Errorf("no principal decoded as %+v, %v", v, err)
	}
	if _, err := c.decode([]byte{0xff, 0xff}); err == nil {
		t.Error("garbage decoded")
	}
	for i := range principalCacheMax + 5 {
		if _, err := c.decode(enc("u-" + strconv.Itoa(i))); err != nil {
			t.Fatal(err)
		}
	}
	if len(c.m) > principalCacheMax {
		t.Errorf("cache holds %d entries, more than %d", len(c.m), principalCacheMax)
	}
}

// eventPlugin handles events: it records their IDs, refuses the one named fail and
// takes delay over each.
type eventPlugin struct {
	fail    string
	delay   time.Duration
	handled []string
}

func (*eventPlugin) Manifest() Manifest                   { return Manifest{Name: "events"} }
func (*eventPlugin) Configure(context.Context, Env) error { return nil }
func (*eventPlugin) Handler() http.Handler                { return http.NotFoundHandler() }
func (p *eventPlugin) HandleEvent(_ context.Context, e Event) error {
	if e.ID == p.fail {
		return errors.New("refused " + e.ID)
	}
	time.Sleep(p.delay)
	p.handled = append(p.handled, e.ID)
	return nil
}

// configuredServer is the server of p as Configure leaves it.
func configuredServer(p Plugin) *server {
	s := newServer(p, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	s.env = &Env{}
	return s
}

func eventBatch(n int) *pb.HandleEventsRequest {
	req := &pb.HandleEventsRequest{}
	for i := range n {
		req.Events = append(req.Events, &pb.Event{Id: "e" + strconv.Itoa(i+1), Type: "x.y"})
	}
	return req
}

// TestServer_HandleEvents: a batch is handled in order up to the first event the
// handler refuses; a slow handler stops starting events halfway through the host's
// time and reports how far it got; a plugin without a handler says Unimplemented.
func TestServer_HandleEvents(t *testing.T) {
	t.Run("ErrInTheMiddle", func(t *testing.T) {
		p := &eventPlugin{fail: "e3"}
		resp, err := configuredServer(p).HandleEvents(context.Background(), eventBatch(5))
		if err != nil {
			t.Fatal(err)
		}
		if resp.Handled != 2 || resp.Error != "refused e3" || !slices.Equal(p.handled, []string{"e1", "e2"}) {
			t.Errorf("handled %d (%v), error %q; want e1, e2 and e3's refusal", resp.Handled, p.handled, resp.Error)
		}
	})
	t.Run("OK", func(t *testing.T) {
		p := &eventPlugin{}
		resp, err := configuredServer(p).HandleEvents(context.Background(), eventBatch(3))
		if err != nil || resp.Handled != 3 || resp.Error != "" || !slices.Equal(p.handled, []string{"e1", "e2", "e3"}) {
			t.Errorf("HandleEvents = %v, %v; handled %v", resp, err, p.handled)
		}
	})
	t.Run("SlowHandlerStopsEarly", func(t *testing.T) {
		p := &eventPlugin{delay: 200 * time.Millisecond}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		resp, err := configuredServer(p).HandleEvents(ctx, eventBatch(20))
		if err != nil {
			t.Fatal(err)
		}
		// Events start until half the second has passed: at least one, never all.
		if resp.Handled < 1 || resp.Handled >= 20 || resp.Error != "" || len(p.handled) != int(resp.Handled) {
			t.Errorf("handled %d (%v), error %q; want an early stop without error", resp.Handled, p.handled, resp.Error)
		}
	})
	t.Run("ErrNoHandler", func(t *testing.T) {
		_, err := configuredServer(noEvents{}).HandleEvents(context.Background(), eventBatch(1))
		if status.Code(err) != codes.Unimplemented {
			t.Errorf("err = %v, want Unimplemented", err)
		}
	})
}

type noEvents struct{}

func (noEvents) Manifest() Manifest                   { return Manifest{Name: "quiet"} }
func (noEvents) Configure(context.Context, Env) error { return nil }
func (noEvents) Handler() http.Handler                { return http.NotFoundHandler() }

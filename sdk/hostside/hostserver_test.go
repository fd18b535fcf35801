package hostside

import (
	"context"
	"slices"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/kvarter/kvarter/sdk"
	pb "github.com/kvarter/kvarter/sdk/internal/pluginv1"
)

// batchHost records the batches the host server passes on to the core; the server
// under test calls nothing else.
type batchHost struct {
	sdk.Host
	batches [][]sdk.Event
}

func (h *batchHost) PublishAll(_ context.Context, events []sdk.Event) error {
	h.batches = append(h.batches, events)
	return nil
}

// TestHostServer_PublishAll: the batch reaches the core in order with Source pinned to
// the plugin; one type outside the manifest refuses the whole batch before the core
// sees any of it.
func TestHostServer_PublishAll(t *testing.T) {
	serve := func(events ...*pb.Event) (*batchHost, error) {
		h := &batchHost{}
		s := &hostServer{host: h, name: "hello", publishes: map[string]bool{"hello.pinged": true}}
		_, err := s.PublishAll(context.Background(), &pb.PublishAllRequest{Events: events})
		return h, err
	}
	t.Run("OK", func(t *testing.T) {
		h, err := serve(&pb.Event{Id: "e1", Type: "hello.pinged", Source: "core"}, &pb.Event{Id: "e2", Type: "hello.pinged"})
		if err != nil {
			t.Fatal(err)
		}
		if len(h.batches) != 1 {
			t.Fatalf("%d batches, want 1", len(h.batches))
		}
		var ids []string
		for _, e := range h.batches[0] {
			ids = append(ids, e.ID)
			if e.Source != "hello" {
				t.Errorf("event %s has source %q, want the plugin's", e.ID, e.Source)
			}
		}
		if !slices.Equal(ids, []string{"e1", "e2"}) {
			t.Errorf("events %v, want e1, e2", ids)
		}
	})
	t.Run("ErrNotInManifest", func(t *testing.T) {
		h, err := serve(&pb.Event{Id: "e1", Type: "hello.pinged"}, &pb.Event{Id: "e2", Type: "hello.other"})
		if status.Code(err) != codes.PermissionDenied || !strings.Contains(err.Error(), `event 2 of 2: event type "hello.other"`) {
			t.Errorf("err = %v, want permission denied for event 2", err)
		}
		if len(h.batches) != 0 {
			t.Errorf("the core got %v", h.batches)
		}
	})
}

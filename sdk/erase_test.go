package sdk

import (
	"context"
	"errors"
	"slices"
	"testing"

	pb "github.com/kvarter/kvarter/sdk/internal/pluginv1"
)

// eraserPlugin keeps personal data and handles one other event type.
type eraserPlugin struct {
	eventPlugin
	erased []Erasure
	fail   bool
}

func (p *eraserPlugin) EraseUser(_ context.Context, e Erasure) error {
	if p.fail {
		return errors.New("store down")
	}
	p.erased = append(p.erased, e)
	return nil
}

// TestEraser: an Eraser is subscribed to core.user.deleted without listing it; the
// event reaches EraseUser with the person and the event id, not HandleEvent; other
// events still reach HandleEvent; a failed erasure is reported so that the host
// delivers again; a payload without a person is dropped instead of failing forever.
func TestEraser(t *testing.T) {
	p := &eraserPlugin{}
	s := configuredServer(p)
	m, err := s.Describe(context.Background(), &pb.DescribeRequest{})
	if err != nil || !slices.Contains(m.Subscribes, EventUserDeleted) {
		t.Fatalf("Describe subscribes to %v (%v), want %s", m.GetSubscribes(), err, EventUserDeleted)
	}
	if plain, _ := configuredServer(&eventPlugin{}).Describe(context.Background(), &pb.DescribeRequest{}); slices.Contains(plain.Subscribes, EventUserDeleted) {
		t.Error("a plugin that is no Eraser was subscribed to core.user.deleted")
	}

	resp, err := s.HandleEvents(context.Background(), &pb.HandleEventsRequest{Events: []*pb.Event{
		{Id: "d1", Type: EventUserDeleted, Payload: []byte(`{"user_id":"ann"}`)},
		{Id: "x1", Type: "x.y"},
		{Id: "d2", Type: EventUserDeleted, Payload: []byte(`{"user_id":""}`)},
		{Id: "d3", Type: EventUserDeleted, Payload: []byte(`not json`)},
	}})
	if err != nil || resp.Handled != 4 || resp.Error != "" {
		t.Fatalf("HandleEvents = %v, %v", resp, err)
	}
	if want := []Erasure{{UserID: "ann", EventID: "d1"}}; !slices.Equal(p.erased, want) {
		t.Errorf("erased %v, want %v", p.erased, want)
	}
	if !slices.Equal(p.handled, []string{"x1"}) {
		t.Errorf("HandleEvent got %v, want only x1", p.handled)
	}

	p.fail = true
	resp, err = s.HandleEvents(context.Background(), &pb.HandleEventsRequest{Events: []*pb.Event{
		{Id: "d4", Type: EventUserDeleted, Payload: []byte(`{"user_id":"bo"}`)},
	}})
	if err != nil || resp.Handled != 0 || resp.Error == "" {
		t.Errorf("a failed erasure answered %v, %v; want it handed back for redelivery", resp, err)
	}
}

package hostside

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/kvarter/kvarter/sdk"
	pb "github.com/kvarter/kvarter/sdk/internal/pluginv1"
)

// oldPlugin answers the Plugin service as a plugin built with an SDK from before
// HandleEvents: the service it registers has no such method, so gRPC itself answers
// Unimplemented, and events arrive one HandleEvent call each.
type oldPlugin struct {
	pb.UnimplementedPluginServer
	mu      sync.Mutex
	handled []string
	calls   int
	failID  string // the event it refuses
}

func (o *oldPlugin) HandleEvent(_ context.Context, req *pb.HandleEventRequest) (*pb.HandleEventResponse, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.calls++
	if req.Event.Id == o.failID {
		return nil, errors.New("refused")
	}
	o.handled = append(o.handled, req.Event.Id)
	return &pb.HandleEventResponse{}, nil
}

// serveOld serves o over a real gRPC connection and returns a Process speaking to it.
func serveOld(t *testing.T, o *oldPlugin) *Process {
	t.Helper()
	desc := pb.Plugin_ServiceDesc
	desc.Methods = slices.DeleteFunc(slices.Clone(desc.Methods), func(m grpc.MethodDesc) bool { return m.MethodName == "HandleEvents" })
	if len(desc.Methods) != len(pb.Plugin_ServiceDesc.Methods)-1 {
		t.Fatal("the protocol has no HandleEvents to leave out")
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	srv.RegisterService(&desc, o)
	go srv.Serve(lis)
	t.Cleanup(srv.Stop)
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &Process{name: "old", rpc: pb.NewPluginClient(conn), logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
}

func events(ids ...string) []sdk.Event {
	out := make([]sdk.Event, len(ids))
	for i, id := range ids {
		out[i] = sdk.Event{ID: id, Type: "core.user.deleted", Payload: []byte(`{}`)}
	}
	return out
}

// TestProcess_DeliverAllOldPlugin: a plugin that predates HandleEvents gets the batch
// one event per call, in order, stopping at the event it refuses; the Process asks for
// batches no more once it knows.
func TestProcess_DeliverAllOldPlugin(t *testing.T) {
	o := &oldPlugin{failID: "e3"}
	p := serveOld(t, o)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	handled, err := p.DeliverAll(ctx, events("e1", "e2", "e3", "e4"))
	if handled != 2 || err == nil || !strings.Contains(err.Error(), "refused") {
		t.Fatalf("DeliverAll = %d, %v; want 2 handled and e3's refusal", handled, err)
	}
	if !slices.Equal(o.handled, []string{"e1", "e2"}) || o.calls != 3 {
		t.Fatalf("the plugin handled %v in %d calls; want e1, e2 and a refused e3, and no e4", o.handled, o.calls)
	}
	if !p.singleEvents.Load() {
		t.Error("the Process did not note that the plugin takes one event per call")
	}

	o.failID = ""
	handled, err = p.DeliverAll(ctx, events("e3", "e4"))
	if handled != 2 || err != nil {
		t.Fatalf("DeliverAll = %d, %v; want both handled", handled, err)
	}
	if !slices.Equal(o.handled, []string{"e1", "e2", "e3", "e4"}) {
		t.Errorf("the plugin handled %v, want e1 to e4 in order", o.handled)
	}
}

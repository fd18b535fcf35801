package httpapi_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/kvarter/kvarter/core/coretest"
	"github.com/kvarter/kvarter/core/node"
)

// TestServer_Shutdown: a connection that never sends a request does not hold a graceful
// stop until the read timeout.
func TestServer_Shutdown(t *testing.T) {
	cfg := coretest.Databases(t)[0].Config
	n, err := node.New(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), coretest.Options())
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	silent, err := net.Dial("tcp", n.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	// A served keep-alive connection, too.
	coretest.NewClient(t, n).Must(200, "GET", "/api/v1/neighbourhoods", nil)
	time.Sleep(100 * time.Millisecond) // let the server start reading the silent one

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := n.Close(ctx); err != nil {
		t.Fatalf("Close = %v, want a clean stop despite a silent connection", err)
	}
}

package hello_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/examples/hello"
	"github.com/kvarter/kvarter/sdk/sdktest"
)

// TestHello serves the plugin in-process through the harness, on both databases:
// every answer is checked against the generated OpenAPI document.
func TestHello(t *testing.T) {
	sdktest.EachStore(t, func(t *testing.T, cfg sdk.StoreConfig) {
		h := sdktest.NewHarness(t, hello.New(), sdktest.HarnessOptions{Store: cfg, Settings: map[string]string{"greeting": "hei"}})
		h.Host.AddNeighbourhood(sdk.Neighbourhood{ID: "n1"})
		h.Host.AddMember("ann", "n1")
		ann, bob, anon := h.As("ann"), h.As("bob"), h.As("")

		var g hello.Greeting
		h.Must(200, anon, "GET", "/api/v1/hello/ping", nil).Decode(t, &g)
		if g.Greeting != "hei" {
			t.Errorf("greeting %q", g.Greeting)
		}
		if ev := sdktest.Payloads[hello.PingedPayload](t, h.Host, hello.EventPinged); len(ev) != 1 || ev[0].UserID != "" {
			t.Errorf("pinged %+v", ev)
		}
		if r := h.Do(anon, "HEAD", "/api/v1/hello/ping", nil); r.Status != 200 || len(r.Body) != 0 {
			t.Errorf("HEAD %d %q", r.Status, r.Body)
		}

		h.Must(403, bob, "POST", "/api/v1/hello/nbh/n1/echo", "hi")
		h.Must(401, anon, "POST", "/api/v1/hello/nbh/n1/echo", "hi")
		var echo hello.Echo
		r := h.Must(201, ann, "POST", "/api/v1/hello/nbh/n1/echo?a=1", "hi")
		r.Decode(t, &echo)
		if echo.Body != "hi" || echo.Nbh != "n1" || echo.Query != "a=1" || echo.Principal.UserID != "ann" || r.Header.Get("X-Hello-Nbh") != "n1" {
			t.Errorf("echo %+v", echo)
		}

		var who hello.WhoAmI
		h.Must(200, ann, "GET", "/api/v1/hello/whoami", nil).Decode(t, &who)
		if len(who.Users) != 1 || who.Users[0].ID != "ann" || who.CanEchoCity || who.RequestID == "" {
			t.Errorf("whoami %+v", who)
		}
		h.Must(401, anon, "GET", "/api/v1/hello/whoami", nil)
		h.Host.SetUnavailable(true)
		h.Must(503, ann, "GET", "/api/v1/hello/whoami", nil)
		// A ping needs no host: its event waits in the plugin's outbox, committed with
		// the ping, and leaves once the host is back.
		before := len(sdktest.Payloads[hello.PingedPayload](t, h.Host, hello.EventPinged))
		h.Must(200, ann, "GET", "/api/v1/hello/ping", nil)
		if ev := sdktest.Payloads[hello.PingedPayload](t, h.Host, hello.EventPinged); len(ev) != before {
			t.Errorf("pinged while the host is away %+v, want only the %d before", ev, before)
		}
		h.Host.SetUnavailable(false)
		h.Flush()
		if ev := sdktest.Payloads[hello.PingedPayload](t, h.Host, hello.EventPinged); len(ev) != before+1 || ev[before].UserID != "ann" {
			t.Errorf("pinged after the host is back %+v, want ann's ping last", ev)
		}

		// The caller's pings, walked page by page while more arrive.
		for range 7 {
			h.Must(200, ann, "GET", "/api/v1/hello/ping", nil)
		}
		h.Must(200, bob, "GET", "/api/v1/hello/ping", nil)
		ids := sdktest.WalkPages(t, func(cursor string) ([]string, string) {
			var p sdk.Page[hello.Ping]
			h.Must(200, ann, "GET", "/api/v1/hello/pings?limit=3&cursor="+cursor, nil).Decode(t, &p)
			var ids []string
			for _, ping := range p.Items {
				ids = append(ids, fmt.Sprint(ping.ID))
			}
			return ids, p.NextCursor
		}, func(int) {
			if r := h.Do(ann, "GET", "/api/v1/hello/ping", nil); r.Status != 200 {
				t.Errorf("ping: %d %s", r.Status, r.Body)
			}
		})
		if len(ids) < 8 {
			t.Errorf("walked %d pings of ann", len(ids))
		}
		h.Must(422, ann, "GET", "/api/v1/hello/pings?limit=500", nil)
		h.Must(400, ann, "GET", "/api/v1/hello/pings?cursor=nope", nil)

		// The core deletes ann: her pings go.
		if err := h.Plugin.(sdk.EventHandler).HandleEvent(context.Background(),
			sdk.Event{ID: "e1", Type: hello.EventUserDeleted, Payload: []byte(`{"user_id":"ann"}`)}); err != nil {
			t.Fatal(err)
		}
		var left sdk.Page[hello.Ping]
		h.Must(200, ann, "GET", "/api/v1/hello/pings", nil).Decode(t, &left)
		if len(left.Items) != 0 {
			t.Errorf("pings after deletion %+v", left)
		}
		var calls hello.Calls
		h.Must(200, anon, "GET", "/api/v1/hello/calls", nil).Decode(t, &calls)
		if len(calls.Events) != 1 || calls.Events[0] != "e1" || calls.Calls < 10 {
			t.Errorf("calls %+v", calls)
		}
		sdktest.CheckRequestLimits(t, h.Plugin)
	})
}

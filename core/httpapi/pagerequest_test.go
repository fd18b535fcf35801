package httpapi

import (
	"io"
	"net"
	"net/http"
	"slices"
	"testing"

	"github.com/gofiber/fiber/v2"
)

// fasthttp reuses a connection's buffers for its next request, and its adaptor hands
// the page handlers strings over them. A page that keeps one (a cache keyed on a flash
// cookie's value did) finds it turned into the next request's bytes; pageRequest gives
// the request strings of its own. Without it, the kept strings below change.
func TestPageRequest_StringsOutliveTheRequest(t *testing.T) {
	var kept []string
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	app.Get("/*", func(c *fiber.Ctx) error {
		r, err := pageRequest(c)
		if err != nil {
			return err
		}
		c1, _ := r.Cookie("kvarter_flash")
		kept = append(kept, r.URL.Path, r.Header.Get("X-Note"), c1.Value, r.Host, r.Header.Get("HX-Request"), r.Method)
		return c.SendString("ok")
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go app.Listener(ln) //nolint:errcheck // closed below
	t.Cleanup(func() { _ = app.Shutdown() })
	client := &http.Client{} // one keep-alive connection for both requests
	for _, v := range []string{"aaaa", "bbbb"} {
		req, _ := http.NewRequest("GET", "http://"+ln.Addr().String()+"/page-"+v, nil)
		req.Header.Set("X-Note", "note-"+v)
		req.Header.Set("Cookie", "kvarter_flash=flash-"+v)
		req.Header["hx-request"] = []string{"true-" + v} // as sent, not as Go writes it
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	host := ln.Addr().String()
	want := []string{"/page-aaaa", "note-aaaa", "flash-aaaa", host, "true-aaaa", "GET", "/page-bbbb", "note-bbbb", "flash-bbbb", host, "true-bbbb", "GET"}
	if !slices.Equal(kept, want) {
		t.Errorf("the requests' strings became %q, want %q", kept, want)
	}
}

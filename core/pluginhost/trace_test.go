package pluginhost_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	coltrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracev1 "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/kvarter/kvarter/core/coretest"
	"github.com/kvarter/kvarter/core/node"
)

// exportedSpan is a span as an OTLP collector received it.
type exportedSpan struct {
	Service, Name           string
	TraceID, SpanID, Parent string
	Kind                    tracev1.Span_SpanKind
	Attrs                   map[string]string
}

// otlpReceiver is an OTLP/HTTP collector on loopback that keeps every span it is sent,
// from the core and from the plugin processes alike.
type otlpReceiver struct {
	URL   string
	mu    sync.Mutex
	spans []exportedSpan
}

func newOTLPReceiver(t *testing.T) *otlpReceiver {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	rcv := &otlpReceiver{URL: "http://" + ln.Addr().String()}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/traces", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var req coltrace.ExportTraceServiceRequest
		if err := proto.Unmarshal(body, &req); err != nil {
			t.Errorf("otlp receiver: %v", err)
			http.Error(w, err.Error(), 400)
			return
		}
		rcv.mu.Lock()
		for _, rs := range req.ResourceSpans {
			service := ""
			for _, a := range rs.GetResource().GetAttributes() {
				if a.Key == "service.name" {
					service = a.GetValue().GetStringValue()
				}
			}
			for _, ss := range rs.ScopeSpans {
				for _, s := range ss.Spans {
					e := exportedSpan{Service: service, Name: s.Name, Kind: s.Kind, Attrs: map[string]string{},
						TraceID: hex.EncodeToString(s.TraceId), SpanID: hex.EncodeToString(s.SpanId), Parent: hex.EncodeToString(s.ParentSpanId)}
					for _, a := range s.Attributes {
						v := a.GetValue().GetStringValue()
						if v == "" {
							v = strings.Trim(a.GetValue().String(), " ")
						}
						e.Attrs[a.Key] = v
					}
					rcv.spans = append(rcv.spans, e)
				}
			}
		}
		rcv.mu.Unlock()
		b, _ := proto.Marshal(&coltrace.ExportTraceServiceResponse{})
		w.Header().Set("Content-Type", "application/x-protobuf")
		_, _ = w.Write(b)
	})
	srv := &http.Server{Handler: mux}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return rcv
}

// find returns the spans of a trace that match.
func (r *otlpReceiver) find(traceID string, match func(exportedSpan) bool) []exportedSpan {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []exportedSpan
	for _, s := range r.spans {
		if s.TraceID == traceID && match(s) {
			out = append(out, s)
		}
	}
	return out
}

// syncBuffer is a log destination the node and the test share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) lines() []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(s.b.Bytes()))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var m map[string]any
		if json.Unmarshal(sc.Bytes(), &m) == nil {
			out = append(out, m)
		}
	}
	return out
}

// TestTracing_CoreIntoPlugin: with an OTLP endpoint configured, one request to a
// plugin route is one trace exported by both processes: the core's server span, its
// client span for the Handle call, and the plugin process's server span whose parent
// is that client span. The request id of the answer (header and error body) is the
// trace id, and every log line of the request — the core's and the plugin's — carries
// it. A caller's traceparent is continued.
func TestTracing_CoreIntoPlugin(t *testing.T) {
	coretest.ForEachDB(t, func(t *testing.T, db coretest.DB) {
		rcv := newOTLPReceiver(t)
		cfg := db.Config
		cfg.Plugins = []node.PluginConfig{{Name: "beta"}}
		if cfg.DatabaseURL != "" {
			cfg.PluginStorePrefix = pgPrefix(t, cfg.DatabaseURL)
		}
		cfg.OTLPEndpoint, cfg.LogLevel = rcv.URL, "debug"
		opt := coretest.Options()
		opt.Executable, opt.Builtins, opt.HostVersion = probeBin, []string{"beta"}, "0.1.0"
		var logs syncBuffer
		n, err := node.New(context.Background(), cfg, node.NewLogger(cfg, &logs), opt)
		if err != nil {
			t.Fatal(err)
		}
		if err := n.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		closed := false
		closeNode := func() {
			if !closed {
				closed = true
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				_ = n.Close(ctx)
			}
		}
		t.Cleanup(closeNode)
		user := coretest.Register(t, n, "resident@city.example", "Resident")

		// One authenticated request into the plugin, which logs while serving it.
		r := mustCall(t, n, 200, "GET", "/api/v1/beta/headers", user.Token)
		traceID := r.Header.Get("X-Request-ID")
		if len(traceID) != 32 {
			t.Fatalf("request id %q is not a trace id", traceID)
		}
		if got := r.json(t)["request_id"]; got != traceID {
			t.Errorf("the plugin saw request id %v, the answer says %s", got, traceID)
		}
		// An error answer's request_id is the trace id too.
		e := mustCall(t, n, 401, "GET", "/api/v1/beta/headers", "")
		var body struct {
			Error struct {
				RequestID string `json:"request_id"`
			}
		}
		_ = json.Unmarshal(e.Body, &body)
		if body.Error.RequestID != e.Header.Get("X-Request-ID") || len(body.Error.RequestID) != 32 {
			t.Errorf("error answer request_id %q, header %q", body.Error.RequestID, e.Header.Get("X-Request-ID"))
		}
		// A caller's trace is continued.
		const callerTrace, callerSpan = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
		c := mustCallHeader(t, n, 200, "/api/v1/beta/ping", map[string]string{"traceparent": "00-" + callerTrace + "-" + callerSpan + "-01"})
		if got := c.Header.Get("X-Request-ID"); got != callerTrace {
			t.Errorf("with a traceparent the request id is %q, want the caller's trace %s", got, callerTrace)
		}

		// Closing the node flushes the core's spans and stops the plugin, which
		// flushes its own on the way out.
		closeNode()
		var hostServer, hostClient, pluginServer []exportedSpan
		waitFor(t, 10*time.Second, "spans of both processes", func() bool {
			hostServer = rcv.find(traceID, func(s exportedSpan) bool {
				return s.Service == "kvarter" && s.Kind == tracev1.Span_SPAN_KIND_SERVER
			})
			hostClient = rcv.find(traceID, func(s exportedSpan) bool {
				return s.Service == "kvarter" && s.Kind == tracev1.Span_SPAN_KIND_CLIENT && strings.HasSuffix(s.Name, "/Handle")
			})
			pluginServer = rcv.find(traceID, func(s exportedSpan) bool {
				return s.Service == "kvarter-plugin-beta" && s.Kind == tracev1.Span_SPAN_KIND_SERVER && strings.HasSuffix(s.Name, "/Handle")
			})
			return len(hostServer) == 1 && len(hostClient) == 1 && len(pluginServer) == 1
		})
		if hs := hostServer[0]; hs.Name != "GET /api/v1/beta/headers" || hs.Attrs["kvarter.plugin"] != "beta" || hs.Parent != "" {
			t.Errorf("host server span = %+v", hs)
		}
		if hostClient[0].Parent != hostServer[0].SpanID {
			t.Errorf("the Handle call's parent is %s, not the request's span %s", hostClient[0].Parent, hostServer[0].SpanID)
		}
		if pluginServer[0].Parent != hostClient[0].SpanID {
			t.Errorf("the plugin's span's parent is %s, not the host's Handle call %s", pluginServer[0].Parent, hostClient[0].SpanID)
		}
		continued := rcv.find(callerTrace, func(s exportedSpan) bool { return s.Kind == tracev1.Span_SPAN_KIND_SERVER && s.Service == "kvarter" })
		if len(continued) != 1 || continued[0].Parent != callerSpan {
			t.Errorf("the caller's trace was not continued: %+v", continued)
		}

		// Every log line about the request carries its trace id.
		var ofRequest int
		sawPluginLine := false
		for _, l := range logs.lines() {
			if l["request_id"] != traceID && l["trace_id"] != traceID {
				continue
			}
			ofRequest++
			if l["request_id"] != traceID || l["trace_id"] != traceID {
				t.Errorf("log line without both ids: %v", l)
			}
			if l["msg"] == "probe headers" && l["plugin"] == "beta" {
				sawPluginLine = true
			}
		}
		if ofRequest < 2 || !sawPluginLine {
			t.Errorf("%d log lines of the request; the plugin's line seen: %v", ofRequest, sawPluginLine)
		}
	})
}

func mustCallHeader(t *testing.T, n *node.Node, want int, path string, header map[string]string) resp {
	t.Helper()
	r, err := call(t, n, "GET", path, "", header)
	if err != nil || r.Status != want {
		t.Fatalf("GET %s = %d %v, want %d", path, r.Status, err, want)
	}
	return r
}

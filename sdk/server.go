package sdk

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"runtime/debug"
	"sync"
	"time"

	plugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/kvarter/kvarter/sdk/internal/pluginv1"
	"github.com/kvarter/kvarter/sdk/internal/sqlstore"
	"github.com/kvarter/kvarter/sdk/telemetry"
)

// grpcPlugin plugs a Plugin into go-plugin's server. The client half lives in
// sdk/hostside; a plugin process never dials its host except through the broker.
type grpcPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	p       Plugin
	logger  *slog.Logger
	tracing *telemetry.Tracing
}

func (g *grpcPlugin) GRPCServer(broker *plugin.GRPCBroker, s *grpc.Server) error {
	srv := newServer(g.p, broker, g.logger)
	srv.tracing = g.tracing
	pluginv1.RegisterPluginServer(s, srv)
	return nil
}

func (g *grpcPlugin) GRPCClient(context.Context, *plugin.GRPCBroker, *grpc.ClientConn) (any, error) {
	return nil, errors.New("sdk: the plugin side has no client")
}

// server adapts the Plugin service to a Plugin.
type server struct {
	pluginv1.UnimplementedPluginServer
	p      Plugin
	broker *plugin.GRPCBroker
	logger *slog.Logger
	// tracing is flushed at Deactivate, so a stopping plugin's spans are not lost.
	tracing *telemetry.Tracing

	mu      sync.Mutex
	env     *Env // nil until configured
	handler http.Handler

	principals principalCache
}

func newServer(p Plugin, broker *plugin.GRPCBroker, logger *slog.Logger) *server {
	return &server{p: p, broker: broker, logger: logger}
}

func (s *server) configured() (*Env, http.Handler, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.env == nil {
		return nil, nil, status.Error(codes.FailedPrecondition, "plugin not configured")
	}
	return s.env, s.handler, nil
}

func (s *server) Describe(_ context.Context, req *pluginv1.DescribeRequest) (*pluginv1.Manifest, error) {
	return manifestToProto(ManifestOf(s.p), req.GetPages()), nil
}

func (s *server) Configure(ctx context.Context, req *pluginv1.ConfigureRequest) (*pluginv1.ConfigureResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.env != nil {
		return nil, status.Error(codes.FailedPrecondition, "plugin already configured")
	}
	conn, err := s.broker.Dial(req.HostBrokerId)
	if err != nil {
		return nil, status.Errorf(codes.Unavailable, "dial host: %v", err)
	}
	env := Env{
		Settings:     req.Settings,
		Host:         &hostClient{c: pluginv1.NewHostClient(conn)},
		Logger:       s.logger,
		CityTimeZone: req.CityTimeZone,
		Languages:    req.Languages,
		HostVersion:  req.HostVersion,
	}
	if env.Settings == nil {
		env.Settings = map[string]string{}
	}
	if st := req.Store; st != nil {
		env.Store = StoreConfig{Dialect: st.Dialect, DSN: st.Dsn, Schema: st.Schema, MaxConnections: int(st.MaxConnections)}
	}
	// Tx.Emit refuses a type the host would refuse, while the change can still roll back.
	m := s.p.Manifest()
	sqlstore.SetPublishes(append([]string{}, m.Publishes...))
	sqlstore.SetNotifications(m.Name, append([]NotificationKind{}, m.Notifications...))
	if err := s.p.Configure(ctx, env); err != nil {
		conn.Close()
		return nil, pluginErr("configure", err)
	}
	s.env, s.handler = &env, s.p.Handler()
	if s.handler == nil {
		s.handler = http.NotFoundHandler()
	}
	return &pluginv1.ConfigureResponse{}, nil
}

func (s *server) Migrate(ctx context.Context, _ *pluginv1.MigrateRequest) (*pluginv1.MigrateResponse, error) {
	env, _, err := s.configured()
	if err != nil {
		return nil, err
	}
	m, ok := s.p.(Migrator)
	if !ok && !sqlstore.HasOutboxes() {
		return &pluginv1.MigrateResponse{}, nil
	}
	var files fs.FS // a plugin without migrations of its own that opened a store gets the SDK's tables
	if ok {
		files = m.Migrations()
	}
	// Migrations run one file at a time: one connection, so that migrating keeps the
	// plugin within its share of the connection budget.
	db, err := sqlstore.Open(ctx, env.Store.Dialect, env.Store.DSN, env.Store.Schema, 1)
	if err != nil {
		return nil, pluginErr("migrate", err)
	}
	defer db.Close()
	if err := sqlstore.Migrate(ctx, db, env.Store.Dialect, files); err != nil {
		return nil, pluginErr("migrate", err)
	}
	return &pluginv1.MigrateResponse{}, nil
}

// Activate activates the plugin and then starts relaying the outboxes of the stores it
// opened (sdk/store) to the host, until Deactivate.
func (s *server) Activate(ctx context.Context, _ *pluginv1.ActivateRequest) (*pluginv1.ActivateResponse, error) {
	env, _, err := s.configured()
	if err != nil {
		return nil, err
	}
	if a, ok := s.p.(Activator); ok {
		if err := a.Activate(ctx); err != nil {
			return nil, pluginErr("activate", err)
		}
	}
	sqlstore.StartRelays(env.Host, s.logger)
	return &pluginv1.ActivateResponse{}, nil
}

// deactivateFlush bounds the last flush of the outboxes at Deactivate, leaving the
// rest of the host's lifecycle timeout to the plugin. What does not leave then stays
// in the store for the next start.
const deactivateFlush = 5 * time.Second

func (s *server) Health(ctx context.Context, _ *pluginv1.HealthRequest) (*pluginv1.HealthResponse, error) {
	if h, ok := s.p.(Healther); ok {
		if err := h.Health(ctx); err != nil {
			return nil, pluginErr("health", err)
		}
	}
	resp := &pluginv1.HealthResponse{}
	if st, ok := sqlstore.PoolStats(); ok {
		resp.Pool = &pluginv1.PoolStats{
			MaxOpenConnections: int64(st.MaxOpenConnections), OpenConnections: int64(st.OpenConnections),
			InUse: int64(st.InUse), Idle: int64(st.Idle), WaitCount: st.WaitCount, WaitDurationNs: int64(st.WaitDuration),
			MaxIdleClosed: st.MaxIdleClosed, MaxIdleTimeClosed: st.MaxIdleTimeClosed, MaxLifetimeClosed: st.MaxLifetimeClosed,
		}
	}
	return resp, nil
}

func (s *server) Deactivate(ctx context.Context, _ *pluginv1.DeactivateRequest) (*pluginv1.DeactivateResponse, error) {
	defer func() { _ = s.tracing.Flush(ctx) }()
	fctx, cancel := context.WithTimeout(ctx, deactivateFlush)
	if err := sqlstore.StopRelays(fctx); err != nil {
		s.logger.Warn("outbox: events left for the next start", "error", err)
	}
	cancel()
	if d, ok := s.p.(Deactivator); ok {
		if err := d.Deactivate(ctx); err != nil {
			return nil, pluginErr("deactivate", err)
		}
	}
	return &pluginv1.DeactivateResponse{}, nil
}

// eventHandler checks that the plugin is configured and takes events (an
// EventHandler or an Eraser); a plugin that takes none answers Unimplemented.
func (s *server) eventHandler() (func(context.Context, Event) error, error) {
	if _, _, err := s.configured(); err != nil {
		return nil, err
	}
	if !handlesEvents(s.p) {
		return nil, status.Error(codes.Unimplemented, "plugin does not handle events")
	}
	return func(ctx context.Context, e Event) error {
		return Deliver(WithLogger(ctx, s.logger), s.p, e)
	}, nil
}

func (s *server) HandleEvent(ctx context.Context, req *pluginv1.HandleEventRequest) (*pluginv1.HandleEventResponse, error) {
	h, err := s.eventHandler()
	if err != nil {
		return nil, err
	}
	if err := h(ctx, eventFromProto(req.Event)); err != nil {
		return nil, pluginErr("handle event", err)
	}
	return &pluginv1.HandleEventResponse{}, nil
}

// HandleEvents hands a batch to the plugin's EventHandler one event at a time, in
// order, and stops at the first that fails: that event and the rest are the host's to
// deliver again, so none is skipped and none is handled before an earlier one.
//
// A slow handler must still make progress, even when a whole batch does not fit in the
// host's time for the call: no event starts after half that time, and the handlers'
// context ends a tenth before the host gives up, so the answer always reaches the host
// and says how far the plugin got. The next call then starts at the first event left.
func (s *server) HandleEvents(ctx context.Context, req *pluginv1.HandleEventsRequest) (*pluginv1.HandleEventsResponse, error) {
	h, err := s.eventHandler()
	if err != nil {
		return nil, err
	}
	var startBy time.Time
	if dl, ok := ctx.Deadline(); ok {
		now := time.Now()
		left := dl.Sub(now)
		startBy = now.Add(left / 2)
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, dl.Add(-left/10))
		defer cancel()
	}
	for i, e := range req.Events {
		if i > 0 && !startBy.IsZero() && time.Now().After(startBy) {
			return &pluginv1.HandleEventsResponse{Handled: int32(i)}, nil
		}
		if err := h(ctx, eventFromProto(e)); err != nil {
			return &pluginv1.HandleEventsResponse{Handled: int32(i), Error: err.Error()}, nil
		}
	}
	return &pluginv1.HandleEventsResponse{Handled: int32(len(req.Events))}, nil
}

// ExportUser answers the plugin's section of a person's export, its data as one JSON
// object; a plugin that is no Exporter answers Unimplemented.
func (s *server) ExportUser(ctx context.Context, req *pluginv1.ExportUserRequest) (*pluginv1.ExportUserResponse, error) {
	if _, _, err := s.configured(); err != nil {
		return nil, err
	}
	ex, ok := s.p.(Exporter)
	if !ok {
		return nil, status.Error(codes.Unimplemented, "plugin keeps no personal data to export")
	}
	if req.UserId == "" {
		return nil, status.Error(codes.InvalidArgument, "export: no user")
	}
	pd, err := ex.ExportUser(WithLogger(ctx, s.logger), req.UserId)
	if err != nil {
		return nil, pluginErr("export user", err)
	}
	if pd.Data == nil {
		pd.Data = map[string]any{}
	}
	data, err := json.Marshal(pd.Data)
	if err != nil {
		return nil, pluginErr("export user", fmt.Errorf("marshal: %w", err))
	}
	return &pluginv1.ExportUserResponse{Data: data, Fields: pd.Fields}, nil
}

// strippedHeaders never reach a plugin: the host authenticates the caller and passes
// the Principal instead. The host strips them too; this is the second lock.
var strippedHeaders = []string{"Cookie", "Authorization", "Proxy-Authorization"}

func (s *server) Handle(ctx context.Context, req *pluginv1.HTTPRequest) (*pluginv1.HTTPResponse, error) {
	env, handler, err := s.configured()
	if err != nil {
		return nil, err
	}
	principal, err := s.principals.decode(req.Principal)
	if err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "decode principal: %v", err)
	}
	if req.TimeoutMs > 0 {
		ctx = hostDeadline{ctx, time.Now().Add(time.Duration(req.TimeoutMs) * time.Millisecond)}
	}
	u := &url.URL{Path: req.Path, RawQuery: req.RawQuery}
	ctx = context.WithValue(ctx, principalKey, principal)
	ctx = WithRequestID(ctx, req.RequestId)
	ctx = WithHost(ctx, env.Host)
	var meta *PageMeta
	if render := renderFromProto(req.Render); render != RenderAPI {
		// Only page requests pay for the page contract's context values.
		ctx = WithRender(ctx, render)
		ctx, meta = RecordPageMeta(ctx)
	}
	if req.Language != "" {
		ctx = WithLanguage(ctx, req.Language)
	}
	r, err := http.NewRequestWithContext(ctx, req.Method, "/", bytes.NewReader(req.Body))
	if err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "build request: %v", err)
	}
	r.URL, r.RequestURI = u, u.RequestURI()
	r.Header = headerFromProto(req.Headers)
	for _, h := range strippedHeaders {
		r.Header.Del(h)
	}
	if req.RequestId != "" {
		r.Header["X-Request-Id"] = []string{req.RequestId}
	}
	r.Host = r.Header.Get("Host")

	w := newRecorder()
	if err := s.serveHTTP(handler, w, r); err != nil {
		s.logger.ErrorContext(ctx, "handler panicked",
			"method", req.Method, "path", req.Path, "error", err)
		return nil, status.Error(codes.Internal, "handler panicked")
	}
	resp := w.response()
	resp.Page = pageMetaToProto(meta)
	return resp, nil
}

// hostDeadline reports the host's deadline for a request without a timer of its own:
// the host cancels the call when the deadline passes, and that cancels the parent.
// Handlers see the deadline as on any context (ctx.Deadline, context.WithTimeout).
type hostDeadline struct {
	context.Context
	deadline time.Time
}

func (c hostDeadline) Deadline() (time.Time, bool) { return c.deadline, true }

// principalCache keeps decoded callers by their encoding. A host sends one encoding
// per caller (hostside.EncodePrincipal is deterministic), so a busy caller is decoded
// once rather than on every request. Entries hold the Principal already boxed for the
// request context; handlers share its maps and slices read-only.
type principalCache struct {
	mu sync.RWMutex
	m  map[string]any
}

// principalCacheMax bounds the cache (about half a kilobyte an entry); when full it
// starts again empty.
const principalCacheMax = 10_000

var anonymous any = Principal{}

func (c *principalCache) decode(b []byte) (any, error) {
	if len(b) == 0 {
		return anonymous, nil
	}
	c.mu.RLock()
	v, ok := c.m[string(b)]
	c.mu.RUnlock()
	if ok {
		return v, nil
	}
	var m pluginv1.Principal
	if err := proto.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	v = principalFromProto(&m)
	c.mu.Lock()
	if c.m == nil || len(c.m) >= principalCacheMax {
		c.m = make(map[string]any)
	}
	c.m[string(b)] = v
	c.mu.Unlock()
	return v, nil
}

// serveHTTP runs the handler, turning a panic into an error as net/http would turn it
// into a dropped connection: one bad request must not kill the plugin.
func (s *server) serveHTTP(h http.Handler, w http.ResponseWriter, r *http.Request) (err error) {
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				err = fmt.Errorf("%v", v)
				return
			}
			err = fmt.Errorf("%v\n%s", v, debug.Stack())
		}
	}()
	h.ServeHTTP(w, r)
	return nil
}

// recorder is the ResponseWriter handed to plugin handlers. Like a real server it
// ignores header changes after WriteHeader and sniffs a missing Content-Type.
type recorder struct {
	header  http.Header
	sent    http.Header
	status  int
	body    bytes.Buffer
	written bool
}

func newRecorder() *recorder { return &recorder{header: http.Header{}} }

func (w *recorder) Header() http.Header { return w.header }

func (w *recorder) WriteHeader(code int) {
	if w.written {
		return
	}
	if code < 100 || code > 999 {
		panic(fmt.Sprintf("invalid WriteHeader code %v", code))
	}
	if code < 200 { // informational responses cannot cross the RPC; ignore them
		return
	}
	w.written, w.status, w.sent = true, code, w.header.Clone()
}

func (w *recorder) Write(b []byte) (int, error) {
	if !w.written {
		w.WriteHeader(http.StatusOK)
	}
	return w.body.Write(b)
}

// Flush implements http.Flusher; the response is sent whole when the handler returns.
func (w *recorder) Flush() {}

func (w *recorder) response() *pluginv1.HTTPResponse {
	if !w.written {
		w.WriteHeader(http.StatusOK)
	}
	body := w.body.Bytes()
	if len(body) > 0 && w.sent.Get("Content-Type") == "" && w.status != http.StatusNoContent && w.status != http.StatusNotModified {
		w.sent.Set("Content-Type", http.DetectContentType(body))
	}
	return &pluginv1.HTTPResponse{Status: int32(w.status), Headers: headerToProto(w.sent), Body: body}
}

// pluginErr passes an author's error to the host as its message.
func pluginErr(op string, err error) error {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return status.Errorf(codes.DeadlineExceeded, "%s: %v", op, err)
	case errors.Is(err, context.Canceled):
		return status.Errorf(codes.Canceled, "%s: %v", op, err)
	}
	return status.Errorf(codes.Unknown, "%s: %v", op, err)
}

package hostside

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/kvarter/kvarter/sdk"
	pb "github.com/kvarter/kvarter/sdk/internal/pluginv1"
)

// ConfigureRequest is what the host hands a plugin at Configure, besides the Host.
type ConfigureRequest struct {
	// Settings are the manifest defaults merged with the city config.
	Settings     map[string]string
	Store        sdk.StoreConfig
	CityTimeZone string
	Languages    []string
	HostVersion  string
}

// HTTPRequest is a request for one of the plugin's routes, already authenticated and
// authorised, copied out of the core's HTTP framework. The deadline comes from ctx.
type HTTPRequest struct {
	Method    string
	Path      string
	RawQuery  string
	Header    http.Header
	Body      []byte
	Principal sdk.Principal
	// EncodedPrincipal, when set, is sent instead of Principal: EncodePrincipal's
	// result, which a host can keep per caller rather than encode on every request.
	EncodedPrincipal []byte
	RequestID        string
	// Render asks for JSON (RenderAPI, the zero value) or for HTML: a page or a
	// fragment of one, with its PageMeta.
	Render sdk.Render
	// Language is the viewer's negotiated language (BCP 47), for pages and messages.
	Language string
}

// HTTPResponse is the plugin's complete answer.
type HTTPResponse struct {
	Status int
	Header http.Header
	Body   []byte
	// Page is the metadata of a page or fragment; zero for an API answer and from a
	// plugin built before pages.
	Page sdk.PageMeta
}

// Describe asks the plugin for its manifest.
func (p *Process) Describe(ctx context.Context) (sdk.Manifest, error) {
	// This host routes pages, so the manifest may hold page routes and a UI section.
	m, err := p.rpc.Describe(ctx, &pb.DescribeRequest{Pages: true})
	if err != nil {
		return sdk.Manifest{}, p.callErr("describe", err)
	}
	man := manifestFromProto(m)
	p.mu.Lock()
	p.manifest = &man
	p.mu.Unlock()
	return man, nil
}

// Configure hands the plugin its settings and store and serves host to it over the
// go-plugin broker for the life of the process. It may be called once per process.
func (p *Process) Configure(ctx context.Context, req ConfigureRequest, host sdk.Host) error {
	if host == nil {
		return fmt.Errorf("configure plugin %s: nil host", p.name)
	}
	p.mu.Lock()
	if p.configured {
		p.mu.Unlock()
		return fmt.Errorf("configure plugin %s: already configured", p.name)
	}
	p.configured = true
	man := p.manifest
	p.mu.Unlock()

	if man == nil {
		m, err := p.Describe(ctx)
		if err != nil {
			return err
		}
		man = &m
	}
	hs := &hostServer{host: host, name: p.name, publishes: make(map[string]bool)}
	for _, t := range man.Publishes {
		hs.publishes[t] = true
	}
	// Every plugin's outbox may carry notifications and follows; the host's
	// notification service checks them against the manifest's kinds.
	hs.publishes[sdk.NotifyEventType], hs.publishes[sdk.FollowEventType] = true, true
	id := p.broker.NextId()
	go p.broker.AcceptAndServe(id, func(opts []grpc.ServerOption) *grpc.Server {
		s := grpc.NewServer(opts...)
		pb.RegisterHostServer(s, hs)
		return s
	})
	_, err := p.rpc.Configure(ctx, &pb.ConfigureRequest{
		Settings: req.Settings,
		Store: &pb.StoreConfig{
			Dialect: req.Store.Dialect,
			Dsn:     req.Store.DSN,
			Schema:  req.Store.Schema,
			// Bounded by the city's connection budget, far below int32.
			MaxConnections: int32(req.Store.MaxConnections),
		},
		CityTimeZone: req.CityTimeZone,
		Languages:    req.Languages,
		HostVersion:  req.HostVersion,
		HostBrokerId: id,
	})
	if err != nil {
		return p.callErr("configure", err)
	}
	return nil
}

// Migrate applies the plugin's pending migrations to its store.
func (p *Process) Migrate(ctx context.Context) error {
	_, err := p.rpc.Migrate(ctx, &pb.MigrateRequest{})
	return p.callErr("migrate", err)
}

// Activate tells the plugin it is migrated and about to receive traffic.
func (p *Process) Activate(ctx context.Context) error {
	_, err := p.rpc.Activate(ctx, &pb.ActivateRequest{})
	return p.callErr("activate", err)
}

// Health asks the plugin whether it is healthy.
func (p *Process) Health(ctx context.Context) error {
	_, err := p.HealthReport(ctx)
	return err
}

// HealthReport asks the plugin whether it is healthy and returns the state of its
// database pool, nil when it has not opened its store (or predates the report).
func (p *Process) HealthReport(ctx context.Context) (*sql.DBStats, error) {
	resp, err := p.rpc.Health(ctx, &pb.HealthRequest{})
	if err != nil {
		return nil, p.callErr("health", err)
	}
	ps := resp.GetPool()
	if ps == nil {
		return nil, nil
	}
	return &sql.DBStats{
		MaxOpenConnections: int(ps.MaxOpenConnections), OpenConnections: int(ps.OpenConnections),
		InUse: int(ps.InUse), Idle: int(ps.Idle), WaitCount: ps.WaitCount, WaitDuration: time.Duration(ps.WaitDurationNs),
		MaxIdleClosed: ps.MaxIdleClosed, MaxIdleTimeClosed: ps.MaxIdleTimeClosed, MaxLifetimeClosed: ps.MaxLifetimeClosed,
	}, nil
}

// Deactivate tells the plugin it is about to be stopped.
func (p *Process) Deactivate(ctx context.Context) error {
	_, err := p.rpc.Deactivate(ctx, &pb.DeactivateRequest{})
	return p.callErr("deactivate", err)
}

// Handle passes one HTTP request to the plugin's handler and returns its response.
// The plugin's error statuses are responses, not errors; an error means the request
// did not complete (plugin gone, deadline, handler panic).
func (p *Process) Handle(ctx context.Context, r *HTTPRequest) (*HTTPResponse, error) {
	principal := r.EncodedPrincipal
	if principal == nil {
		var err error
		if principal, err = EncodePrincipal(r.Principal); err != nil {
			return nil, fmt.Errorf("plugin %s: handle %s %s: %w", p.name, r.Method, r.Path, err)
		}
	}
	var timeout int64
	if dl, ok := ctx.Deadline(); ok {
		timeout = max(1, time.Until(dl).Milliseconds())
		ctx = cancelOnly{ctx}
	}
	resp, err := p.rpc.Handle(ctx, &pb.HTTPRequest{
		Method:    r.Method,
		Path:      r.Path,
		RawQuery:  r.RawQuery,
		Headers:   headerToProto(r.Header),
		Body:      r.Body,
		Principal: principal,
		RequestId: r.RequestID,
		TimeoutMs: timeout,
		Render:    renderToProto(r.Render),
		Language:  r.Language,
	})
	if err != nil {
		return nil, p.callErr("handle "+r.Method+" "+r.Path, err)
	}
	return &HTTPResponse{Status: int(resp.Status), Header: headerFromProto(resp.Headers), Body: resp.Body,
		Page: pageMetaFromProto(resp.Page)}, nil
}

// cancelOnly hides a context's deadline from gRPC but keeps its cancellation. gRPC
// would send the deadline along and start timers for it at both ends, two per call
// in the plugin; instead the deadline travels in the request (TimeoutMs) and the call
// ends when ctx does, which cancels the handler's context in the plugin. The error
// is still ctx's own, so a call that ran out of time reports DeadlineExceeded.
type cancelOnly struct{ context.Context }

func (cancelOnly) Deadline() (time.Time, bool) { return time.Time{}, false }

// Deliver passes an event to the plugin's HandleEvent; an error means it was not
// handled and should be delivered again later.
func (p *Process) Deliver(ctx context.Context, e sdk.Event) error {
	_, err := p.rpc.HandleEvent(ctx, &pb.HandleEventRequest{Event: eventToProto(e)})
	return p.callErr("deliver "+e.Type, err)
}

// DeliverAll passes events to the plugin in order and says how many, from the first,
// it handled. When that is fewer than all, err says why the next one was not handled,
// or is nil if the plugin stopped early for lack of time; either way the rest are to be
// delivered again, starting with the first not handled.
//
// The events travel in one HandleEvents call. A plugin built with an SDK from before
// that call answers Unimplemented; from then on this Process hands it one event per
// HandleEvent call, which is what such a plugin understands.
func (p *Process) DeliverAll(ctx context.Context, events []sdk.Event) (handled int, err error) {
	if len(events) == 0 {
		return 0, nil
	}
	if !p.singleEvents.Load() {
		req := &pb.HandleEventsRequest{Events: make([]*pb.Event, len(events))}
		for i, e := range events {
			req.Events[i] = eventToProto(e)
		}
		resp, err := p.rpc.HandleEvents(ctx, req)
		if status.Code(err) != codes.Unimplemented {
			if err != nil {
				return 0, p.callErr(fmt.Sprintf("deliver %d events", len(events)), err)
			}
			// A count outside the batch is the plugin's mistake; trusting more than
			// was sent would skip events.
			handled = min(max(int(resp.Handled), 0), len(events))
			if handled < len(events) && resp.Error != "" {
				e := events[handled]
				return handled, fmt.Errorf("plugin %s: handle event %s (%s): %s", p.name, e.ID, e.Type, resp.Error)
			}
			return handled, nil
		}
		p.singleEvents.Store(true)
		p.logger.Info("plugin predates batched event delivery; delivering one event per call")
	}
	// As the SDK does with a batch: start no event after half the time, so that a
	// slow handler still makes progress.
	var startBy time.Time
	if dl, ok := ctx.Deadline(); ok {
		startBy = time.Now().Add(time.Until(dl) / 2)
	}
	for i, e := range events {
		if i > 0 && !startBy.IsZero() && time.Now().After(startBy) {
			return i, nil
		}
		if err := p.Deliver(ctx, e); err != nil {
			return i, err
		}
	}
	return len(events), nil
}

// callErr turns a gRPC error into one that names the plugin and the call, keeps
// context errors recognisable, and marks an unreachable plugin with ErrUnavailable.
func (p *Process) callErr(op string, err error) error {
	if err == nil {
		return nil
	}
	st, ok := status.FromError(err)
	if !ok {
		return fmt.Errorf("plugin %s: %s: %w", p.name, op, err)
	}
	var cause error
	switch st.Code() {
	case codes.DeadlineExceeded:
		cause = context.DeadlineExceeded
	case codes.Canceled:
		cause = context.Canceled
	case codes.Unavailable, codes.FailedPrecondition:
		cause = ErrUnavailable
	default:
		cause = errors.New(st.Message())
	}
	if cause != nil && cause.Error() != st.Message() {
		return fmt.Errorf("plugin %s: %s: %s: %w", p.name, op, st.Message(), cause)
	}
	return fmt.Errorf("plugin %s: %s: %w", p.name, op, cause)
}

// ErrNoExport is ExportUser's answer for a plugin that keeps no personal data to
// export (it is no sdk.Exporter, or was built before the call existed).
var ErrNoExport = errors.New("plugin exports no personal data")

// PersonalData is a plugin's section of a person's export, as it came over the wire:
// its data as one JSON object and the description of its fields.
type PersonalData struct {
	Data   json.RawMessage
	Fields map[string]string
}

// ExportUser asks the plugin for everything it holds about the person userID.
func (p *Process) ExportUser(ctx context.Context, userID string) (*PersonalData, error) {
	resp, err := p.rpc.ExportUser(ctx, &pb.ExportUserRequest{UserId: userID})
	if status.Code(err) == codes.Unimplemented {
		return nil, ErrNoExport
	}
	if err != nil {
		return nil, p.callErr("export user", err)
	}
	if !json.Valid(resp.Data) || len(resp.Data) == 0 || resp.Data[0] != '{' {
		return nil, fmt.Errorf("plugin %s: export user: the answer is not a JSON object", p.name)
	}
	return &PersonalData{Data: resp.Data, Fields: resp.Fields}, nil
}

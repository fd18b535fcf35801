package httpapi

import (
	"context"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/kvarter/kvarter/core"
	"github.com/kvarter/kvarter/core/metrics"
)

// Metrics and traces of the requests the server answers. Each request is labelled by
// its route template — the core's Fiber route, or the route a plugin's manifest
// declares — never by its raw path, so that the number of series stays bounded.

// localPluginRequest holds the *core.PluginRequest of a request forwarded to a plugin,
// which the host fills in with the plugin and route it matched.
const localPluginRequest = "kvarter.plugin_request"

// routeLabels names the route a request took: the plugin's manifest route for a
// plugin request, the core's route template otherwise, RouteUnmatched when neither.
func (s *Server) routeLabels(c *fiber.Ctx) (route, plugin string) {
	if r, ok := c.Locals(localPluginRequest).(*core.PluginRequest); ok {
		if r.Route == "" {
			return metrics.RouteUnmatched, metrics.PluginNone
		}
		return r.Route, r.Plugin
	}
	fr := c.Route()
	if s.coreRoutes[routeID{fr.Method, fr.Path}] {
		return fr.Path, metrics.PluginNone
	}
	return metrics.RouteUnmatched, metrics.PluginNone
}

type routeID struct{ method, path string }

// indexRoutes remembers the core's own handler routes (not middleware, not the
// catch-all that forwards to plugins), so that a request Fiber matched only with a
// middleware is counted as unmatched.
func (s *Server) indexRoutes() {
	s.coreRoutes = map[routeID]bool{}
	for _, r := range s.app.GetRoutes(true) {
		if r.Path != "/api/v1/*" {
			s.coreRoutes[routeID{r.Method, r.Path}] = true
		}
	}
}

// observe records one answered request in the metrics.
func (s *Server) observe(c *fiber.Ctx, status int, took time.Duration) {
	route, plugin := s.routeLabels(c)
	s.cfg.Metrics.Route(c.Method(), route, plugin).Observe(status, took)
}

// startSpan continues the caller's trace (W3C traceparent) or starts a new one.
func (s *Server) startSpan(c *fiber.Ctx) (context.Context, trace.Span) {
	ctx := s.cfg.Tracing.Propagator().Extract(context.Background(), headerCarrier{c})
	return s.cfg.Tracing.Tracer().Start(ctx, c.Method(), trace.WithSpanKind(trace.SpanKindServer))
}

// endSpan names the span after the route it took and records the answer.
func (s *Server) endSpan(c *fiber.Ctx, span trace.Span) {
	route, plugin := s.routeLabels(c)
	status := c.Response().StatusCode()
	span.SetName(c.Method() + " " + route)
	attrs := []attribute.KeyValue{
		attribute.String("http.request.method", c.Method()),
		attribute.String("http.route", route),
		attribute.Int("http.response.status_code", status),
	}
	if plugin != "" {
		attrs = append(attrs, attribute.String("kvarter.plugin", plugin))
	}
	span.SetAttributes(attrs...)
	if status >= 500 {
		span.SetStatus(codes.Error, "")
	}
	span.End()
}

// headerCarrier reads trace context from a request's headers. Values are copied:
// a trace state outlives the request in the exporter's queue, fasthttp's buffers do not.
type headerCarrier struct{ c *fiber.Ctx }

func (h headerCarrier) Get(key string) string { return strings.Clone(h.c.Get(key)) }
func (h headerCarrier) Set(string, string)    {}
func (h headerCarrier) Keys() []string        { return nil }

// metricsRoute serves the metrics on the public listener (only when a token guards them).
func (s *Server) metricsRoute() {
	if s.cfg.MetricsHandler != nil {
		s.app.Get("/metrics", adaptor.HTTPHandler(s.cfg.MetricsHandler))
	}
}

// Package telemetry sets up OpenTelemetry tracing the same way in the core and in every
// plugin process: spans are exported over OTLP/HTTP when an endpoint is configured, and
// nothing is recorded otherwise. The host hands its endpoint to each plugin in the
// plugin's environment, and trace context crosses the go-plugin gRPC connection in
// the call metadata (otelgrpc), so one trace spans the core and the plugin.
//
// With no endpoint the global provider stays OpenTelemetry's no-op one and no gRPC
// instrumentation is installed: a node that does not trace pays nothing for it.
package telemetry

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"

	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
	"google.golang.org/grpc"
)

// Environment variables of the OpenTelemetry specification that Kvarter reads: the
// endpoint switches tracing on; the service name labels a process's spans.
const (
	EnvEndpoint    = "OTEL_EXPORTER_OTLP_ENDPOINT"
	EnvServiceName = "OTEL_SERVICE_NAME"
)

// Config says whether and where to export spans.
type Config struct {
	// Endpoint is the OTLP/HTTP base URL of a collector ("http://collector:4318");
	// spans go to <Endpoint>/v1/traces. Empty: tracing is off.
	Endpoint string
	// ServiceName is the service.name resource attribute ("kvarter",
	// "kvarter-plugin-parks"); ServiceVersion its version.
	ServiceName    string
	ServiceVersion string
}

// Tracing is the tracer provider of one process. Its zero value, and the value Setup
// returns without an endpoint, is off.
type Tracing struct {
	endpoint string
	provider *sdktrace.TracerProvider
	tracer   trace.Tracer
}

// Setup installs the process-wide tracer provider and the W3C trace-context
// propagator when cfg names an endpoint; otherwise it returns a Tracing that is off
// and leaves the no-op globals in place.
func Setup(ctx context.Context, cfg Config) (*Tracing, error) {
	if cfg.Endpoint == "" {
		return &Tracing{tracer: noop.NewTracerProvider().Tracer("")}, nil
	}
	u, err := url.Parse(cfg.Endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("otlp endpoint %q must be an http:// or https:// URL such as http://collector:4318", cfg.Endpoint)
	}
	exp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(strings.TrimSuffix(cfg.Endpoint, "/")+"/v1/traces"))
	if err != nil {
		return nil, fmt.Errorf("otlp exporter: %w", err)
	}
	attrs := []attribute.KeyValue{attribute.String("service.name", cfg.ServiceName)}
	if cfg.ServiceVersion != "" {
		attrs = append(attrs, attribute.String("service.version", cfg.ServiceVersion))
	}
	res, err := resource.Merge(resource.Default(), resource.NewSchemaless(attrs...))
	if err != nil {
		return nil, fmt.Errorf("otel resource: %w", err)
	}
	// The sampler is the SDK's default unless OTEL_TRACES_SAMPLER says otherwise:
	// parent-based, always on for new traces.
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
	otel.SetTracerProvider(tp)
	otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}))
	return &Tracing{endpoint: cfg.Endpoint, provider: tp, tracer: tp.Tracer("github.com/kvarter/kvarter")}, nil
}

// FromEnv is Setup with the endpoint and service name from the standard environment
// variables, for plugin processes (the host sets them); defaultName is used when
// OTEL_SERVICE_NAME is unset.
func FromEnv(ctx context.Context, defaultName string) (*Tracing, error) {
	name := os.Getenv(EnvServiceName)
	if name == "" {
		name = defaultName
	}
	return Setup(ctx, Config{Endpoint: os.Getenv(EnvEndpoint), ServiceName: name})
}

// Enabled reports whether spans are recorded and exported.
func (t *Tracing) Enabled() bool { return t != nil && t.provider != nil }

// Endpoint is the collector's base URL; "" when off.
func (t *Tracing) Endpoint() string {
	if !t.Enabled() {
		return ""
	}
	return t.endpoint
}

// Tracer starts the process's own spans; a no-op tracer when off.
func (t *Tracing) Tracer() trace.Tracer {
	if t == nil || t.tracer == nil {
		return noop.NewTracerProvider().Tracer("")
	}
	return t.tracer
}

// Propagator reads and writes trace context in headers and gRPC metadata.
func (t *Tracing) Propagator() propagation.TextMapPropagator { return otel.GetTextMapPropagator() }

// ServerOptions instrument a gRPC server (a plugin's) when tracing is on: each call
// continues the caller's trace. None when off.
func (t *Tracing) ServerOptions() []grpc.ServerOption {
	if !t.Enabled() {
		return nil
	}
	return []grpc.ServerOption{grpc.StatsHandler(otelgrpc.NewServerHandler(otelgrpc.WithTracerProvider(t.provider)))}
}

// DialOptions instrument a gRPC client (the host's connection to a plugin) when
// tracing is on: each call is a span whose context travels in the call's metadata.
// None when off.
func (t *Tracing) DialOptions() []grpc.DialOption {
	if !t.Enabled() {
		return nil
	}
	return []grpc.DialOption{grpc.WithStatsHandler(otelgrpc.NewClientHandler(otelgrpc.WithTracerProvider(t.provider)))}
}

// Flush exports the spans recorded so far.
func (t *Tracing) Flush(ctx context.Context) error {
	if !t.Enabled() {
		return nil
	}
	return t.provider.ForceFlush(ctx)
}

// Shutdown exports what is left and stops the provider.
func (t *Tracing) Shutdown(ctx context.Context) error {
	if !t.Enabled() {
		return nil
	}
	return errors.Join(t.provider.ForceFlush(ctx), t.provider.Shutdown(ctx))
}

// IDs returns the trace and span id of the span in ctx in their hex forms, or "" when
// ctx carries no recorded span; for log lines.
func IDs(ctx context.Context) (traceID, spanID string) {
	sc := trace.SpanContextFromContext(ctx)
	if !sc.IsValid() {
		return "", ""
	}
	return sc.TraceID().String(), sc.SpanID().String()
}

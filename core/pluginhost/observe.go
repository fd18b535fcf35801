package pluginhost

import (
	"context"
	"database/sql"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/grpc/status"

	"github.com/kvarter/kvarter/core/metrics"
	"github.com/kvarter/kvarter/sdk/telemetry"
)

// Observability of the plugins: metrics of every call to a plugin process, the
// plugins' state for the metrics scrape, and trace propagation into the process.

// dialOptions instrument the host's connection to one plugin: call latency into the
// metrics, and trace context into the call metadata when tracing is on.
func (p *plugin) dialOptions() []grpc.DialOption {
	var opts []grpc.DialOption
	if m := p.h.cfg.Metrics; m != nil {
		opts = append(opts, grpc.WithUnaryInterceptor((&rpcTimer{m: m, plugin: p.spec.Name}).intercept))
	}
	return append(opts, p.h.cfg.Tracing.DialOptions()...)
}

// rpcTimer records the latency of each call to one plugin. The observer of a
// successful call is resolved once per call name; failures resolve theirs each time
// (they are rare, and their code is part of the label).
type rpcTimer struct {
	m      *metrics.Metrics
	plugin string
	mu     sync.RWMutex
	ok     map[string]prometheus.Observer
}

func (t *rpcTimer) intercept(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	start := time.Now()
	err := invoker(ctx, method, req, reply, cc, opts...)
	call := method[strings.LastIndexByte(method, '/')+1:]
	if err != nil {
		t.m.PluginRPC(t.plugin, call, status.Code(err).String()).Observe(time.Since(start).Seconds())
		return err
	}
	t.mu.RLock()
	o := t.ok[call]
	t.mu.RUnlock()
	if o == nil {
		o = t.m.PluginRPC(t.plugin, call, "OK")
		t.mu.Lock()
		if t.ok == nil {
			t.ok = map[string]prometheus.Observer{}
		}
		t.ok[call] = o
		t.mu.Unlock()
	}
	o.Observe(time.Since(start).Seconds())
	return nil
}

// tracingEnv passes the host's tracing to a plugin: the collector's endpoint, the
// service name its spans carry, and the operator's other OTEL_* settings (headers for
// the collector, the sampler). Nothing when tracing is off.
func (h *Host) tracingEnv(name string) []string {
	if !h.cfg.Tracing.Enabled() {
		return nil
	}
	env := []string{
		telemetry.EnvEndpoint + "=" + h.cfg.Tracing.Endpoint(),
		telemetry.EnvServiceName + "=kvarter-plugin-" + name,
	}
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "OTEL_") && k != telemetry.EnvEndpoint && k != telemetry.EnvServiceName {
			env = append(env, kv)
		}
	}
	return env
}

// PluginReports describes every configured plugin for the metrics scrape.
func (h *Host) PluginReports() []metrics.PluginReport {
	now := time.Now()
	out := make([]metrics.PluginReport, 0, len(h.order))
	for _, name := range h.order {
		p := h.plugins[name]
		p.mu.Lock()
		r := metrics.PluginReport{Name: name, State: p.state, Restarts: p.restarts, CrashBudget: CrashBudget, Pool: p.pool}
		for _, c := range p.crashes {
			if now.Sub(c) < CrashWindow {
				r.RecentCrashes++
			}
		}
		p.mu.Unlock()
		out = append(out, r)
	}
	return out
}

// setPool keeps the pool statistics a plugin reported with its health.
func (p *plugin) setPool(s *sql.DBStats) {
	p.mu.Lock()
	p.pool = s
	p.mu.Unlock()
}

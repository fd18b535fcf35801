package node

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"runtime"
	"runtime/debug"
	"time"

	"github.com/kvarter/kvarter/core/metrics"
	"github.com/kvarter/kvarter/core/pluginhost"
	"github.com/kvarter/kvarter/core/sqlstore"
	"github.com/kvarter/kvarter/sdk/telemetry"
)

// observe builds the node's metrics registry and its tracer provider.
func (n *Node) observe(ctx context.Context, opt Options) error {
	commit := opt.Commit
	if commit == "" {
		commit = "unknown"
		if bi, ok := debug.ReadBuildInfo(); ok {
			for _, s := range bi.Settings {
				if s.Key == "vcs.revision" {
					commit = s.Value
				}
			}
		}
	}
	n.Metrics = metrics.New(opt.HostVersion, commit, runtime.Version())
	n.Metrics.WatchDB("core", n.DB.SQL().DB)
	tracing, err := telemetry.Setup(ctx, telemetry.Config{Endpoint: n.Config.OTLPEndpoint, ServiceName: "kvarter", ServiceVersion: opt.HostVersion})
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	n.Tracing = tracing
	if tracing.Enabled() {
		n.Logger.Info("tracing: exporting spans over OTLP", "endpoint", tracing.Endpoint())
	}
	return nil
}

// watch exports what the plugin host knows at scrape time: the plugins' state and
// pools, and each subscriber's outbox backlog.
func (n *Node) watch(host *pluginhost.Host) {
	n.Metrics.WatchPlugins(host.PluginReports)
	store := &sqlstore.PluginStore{DB: n.DB}
	n.Metrics.WatchOutbox(func(ctx context.Context) ([]metrics.Backlog, error) {
		rows, err := store.OutboxBacklog(ctx)
		out := make([]metrics.Backlog, len(rows))
		for i, r := range rows {
			out[i] = metrics.Backlog{Subscriber: r.Subscriber, Pending: r.Pending, Lag: r.Lag, FailedAttempts: r.FailedAttempts}
		}
		return out, err
	})
}

// publicMetrics is the handler the public listener serves at /metrics: only when a
// token guards it and no separate metrics address is configured. Without a token the
// metrics are never on the public listener, which faces the internet.
func (n *Node) publicMetrics() http.Handler {
	if n.Config.MetricsListen != "" || n.Config.MetricsToken == "" {
		return nil
	}
	return n.Metrics.Handler(n.Config.MetricsToken)
}

// listenMetrics serves /metrics on the separate metrics address, when configured.
func (n *Node) listenMetrics() error {
	if n.Config.MetricsListen == "" {
		return nil
	}
	ln, err := net.Listen("tcp", n.Config.MetricsListen)
	if err != nil {
		return fmt.Errorf("metrics_listen %s: %w", n.Config.MetricsListen, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", n.Metrics.Handler(n.Config.MetricsToken))
	n.metricsSrv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	n.metricsAddr = ln.Addr()
	go func() {
		if err := n.metricsSrv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			n.Logger.Error("metrics server stopped", "err", err)
		}
	}()
	n.Logger.Info("metrics are served", "addr", ln.Addr().String())
	return nil
}

// MetricsAddr is the address of the separate metrics listener, nil without one.
func (n *Node) MetricsAddr() net.Addr { return n.metricsAddr }

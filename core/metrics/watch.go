package metrics

import (
	"context"
	"database/sql"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/kvarter/kvarter/core"
)

// PluginReport is one configured plugin as its host sees it at scrape time.
type PluginReport struct {
	Name     string
	State    string
	Restarts int
	// RecentCrashes are the crashes within the crash window; at CrashBudget of them
	// the plugin is failed.
	RecentCrashes int
	CrashBudget   int
	// Pool is the plugin's own database pool as it last reported it (health checks);
	// nil before the first report or for a plugin without a store.
	Pool *sql.DBStats
}

// Backlog is one outbox subscriber's delivery backlog at scrape time.
type Backlog struct {
	Subscriber     string
	Pending        int64
	Lag            time.Duration
	FailedAttempts int64
}

// pluginStates are exported for every plugin, 1 for its state and 0 for the others,
// so a dashboard can count plugins per state without knowing the names.
var pluginStates = []string{core.PluginStarting, core.PluginMigrating, core.PluginActive, core.PluginDegraded,
	core.PluginStopping, core.PluginStopped, core.PluginFailed}

var (
	descPluginState = prometheus.NewDesc(Namespace+"_plugin_state",
		"1 for the state a plugin is in (starting, migrating, active, degraded, stopping, stopped, failed), 0 for the others.",
		[]string{"plugin", "state"}, nil)
	descPluginRestarts = prometheus.NewDesc(Namespace+"_plugin_restarts_total",
		"Times the host restarted a plugin (after a crash or by an operator) since this node started.",
		[]string{"plugin"}, nil)
	descPluginCrashes = prometheus.NewDesc(Namespace+"_plugin_recent_crashes",
		"Crashes of a plugin within the crash window (one hour).", []string{"plugin"}, nil)
	descPluginBudget = prometheus.NewDesc(Namespace+"_plugin_crash_budget_remaining",
		"Crashes a plugin may still have within the crash window before it is failed until an operator enables it.",
		[]string{"plugin"}, nil)
	descOutboxPending = prometheus.NewDesc(Namespace+"_outbox_pending_events",
		"Outbox events after a subscriber's delivery cursor (the depth of its queue).", []string{"subscriber"}, nil)
	descOutboxLag = prometheus.NewDesc(Namespace+"_outbox_delivery_lag_seconds",
		"Age of the oldest event not yet delivered to a subscriber; 0 when it has everything.", []string{"subscriber"}, nil)
	descOutboxFailures = prometheus.NewDesc(Namespace+"_outbox_failed_attempts",
		"Consecutive failed deliveries of the event at a subscriber's cursor.", []string{"subscriber"}, nil)
	descScrapeError = prometheus.NewDesc(Namespace+"_outbox_scrape_error",
		"1 when the outbox backlog could not be read for this scrape.", nil, nil)
)

// collectorFunc is an unchecked collector: it describes nothing up front because the
// plugins and subscribers are only known at scrape time.
type collectorFunc func(chan<- prometheus.Metric)

func (f collectorFunc) Describe(chan<- *prometheus.Desc)    {}
func (f collectorFunc) Collect(ch chan<- prometheus.Metric) { f(ch) }

// WatchPlugins exports the plugins' state, restarts, crash budget and database pools,
// read from report at each scrape.
func (m *Metrics) WatchPlugins(report func() []PluginReport) {
	m.Registry.MustRegister(collectorFunc(func(ch chan<- prometheus.Metric) {
		for _, p := range report() {
			for _, s := range pluginStates {
				v := 0.0
				if s == p.State {
					v = 1
				}
				ch <- prometheus.MustNewConstMetric(descPluginState, prometheus.GaugeValue, v, p.Name, s)
			}
			ch <- prometheus.MustNewConstMetric(descPluginRestarts, prometheus.CounterValue, float64(p.Restarts), p.Name)
			ch <- prometheus.MustNewConstMetric(descPluginCrashes, prometheus.GaugeValue, float64(p.RecentCrashes), p.Name)
			ch <- prometheus.MustNewConstMetric(descPluginBudget, prometheus.GaugeValue, float64(max(0, p.CrashBudget-p.RecentCrashes)), p.Name)
			if p.Pool != nil {
				poolMetrics(ch, "plugin:"+p.Name, *p.Pool)
			}
		}
	}))
}

// WatchOutbox exports each subscriber's backlog, read from report at each scrape
// (bounded by a short timeout so a slow database does not hang the scrape).
func (m *Metrics) WatchOutbox(report func(ctx context.Context) ([]Backlog, error)) {
	m.Registry.MustRegister(collectorFunc(func(ch chan<- prometheus.Metric) {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		backlog, err := report(ctx)
		failed := 0.0
		if err != nil {
			failed = 1
		}
		ch <- prometheus.MustNewConstMetric(descScrapeError, prometheus.GaugeValue, failed)
		for _, b := range backlog {
			ch <- prometheus.MustNewConstMetric(descOutboxPending, prometheus.GaugeValue, float64(b.Pending), b.Subscriber)
			ch <- prometheus.MustNewConstMetric(descOutboxLag, prometheus.GaugeValue, b.Lag.Seconds(), b.Subscriber)
			ch <- prometheus.MustNewConstMetric(descOutboxFailures, prometheus.GaugeValue, float64(b.FailedAttempts), b.Subscriber)
		}
	}))
}

// WatchDB exports the pool of the core's own database as the standard go_sql_*
// series with db_name=name (client_golang's DBStats collector).
func (m *Metrics) WatchDB(name string, db *sql.DB) {
	m.Registry.MustRegister(collectors.NewDBStatsCollector(db, name))
}

func poolDesc(name, help string) *prometheus.Desc {
	return prometheus.NewDesc("go_sql_"+name, help, []string{"db_name"}, nil)
}

// poolDescs are the series of client_golang's DBStats collector, for pools that live in
// another process (a plugin's, reported with its health).
var poolDescs = struct {
	maxOpen, open, inUse, idle, waitCount, waitDuration, maxIdleClosed, maxIdleTimeClosed, maxLifetimeClosed *prometheus.Desc
}{
	maxOpen:           poolDesc("max_open_connections", "Maximum number of open connections to the database."),
	open:              poolDesc("open_connections", "The number of established connections both in use and idle."),
	inUse:             poolDesc("in_use_connections", "The number of connections currently in use."),
	idle:              poolDesc("idle_connections", "The number of idle connections."),
	waitCount:         poolDesc("wait_count_total", "The total number of connections waited for."),
	waitDuration:      poolDesc("wait_duration_seconds_total", "The total time blocked waiting for a new connection."),
	maxIdleClosed:     poolDesc("max_idle_closed_total", "The total number of connections closed due to SetMaxIdleConns."),
	maxIdleTimeClosed: poolDesc("max_idle_time_closed_total", "The total number of connections closed due to SetConnMaxIdleTime."),
	maxLifetimeClosed: poolDesc("max_lifetime_closed_total", "The total number of connections closed due to SetConnMaxLifetime."),
}

func poolMetrics(ch chan<- prometheus.Metric, name string, s sql.DBStats) {
	d := poolDescs
	ch <- prometheus.MustNewConstMetric(d.maxOpen, prometheus.GaugeValue, float64(s.MaxOpenConnections), name)
	ch <- prometheus.MustNewConstMetric(d.open, prometheus.GaugeValue, float64(s.OpenConnections), name)
	ch <- prometheus.MustNewConstMetric(d.inUse, prometheus.GaugeValue, float64(s.InUse), name)
	ch <- prometheus.MustNewConstMetric(d.idle, prometheus.GaugeValue, float64(s.Idle), name)
	ch <- prometheus.MustNewConstMetric(d.waitCount, prometheus.CounterValue, float64(s.WaitCount), name)
	ch <- prometheus.MustNewConstMetric(d.waitDuration, prometheus.CounterValue, s.WaitDuration.Seconds(), name)
	ch <- prometheus.MustNewConstMetric(d.maxIdleClosed, prometheus.CounterValue, float64(s.MaxIdleClosed), name)
	ch <- prometheus.MustNewConstMetric(d.maxIdleTimeClosed, prometheus.CounterValue, float64(s.MaxIdleTimeClosed), name)
	ch <- prometheus.MustNewConstMetric(d.maxLifetimeClosed, prometheus.CounterValue, float64(s.MaxLifetimeClosed), name)
}

package metrics

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

var (
	descMailQueued = prometheus.NewDesc(Namespace+"_mail_queued",
		"Mail waiting in the queue (new, or to be retried after a failure); it grows while no mail server is configured.", nil, nil)
	descMailFailed = prometheus.NewDesc(Namespace+"_mail_failed",
		"Mail that failed every try and waits for an administrator's retry at /admin/mail.", nil, nil)
	descMailScrapeError = prometheus.NewDesc(Namespace+"_mail_scrape_error",
		"1 when the mail queue could not be read for this scrape.", nil, nil)
)

// WatchMail exports the mail queue's depth, read from depth at each scrape, and
// returns the counter the queue's worker records each mail's outcome on
// (kvarter_mail_total{purpose, outcome}: sent, retry, failed, dropped).
func (m *Metrics) WatchMail(depth func(ctx context.Context) (queued, failed int, err error)) func(purpose, outcome string) {
	total := prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Name: "mail_total",
		Help: "Mail the queue's worker handled, by purpose and outcome: sent, retry (refused, tried again later), failed (gave up), dropped (not sent, e.g. an unverified address)."},
		[]string{"purpose", "outcome"})
	m.Registry.MustRegister(total)
	m.Registry.MustRegister(collectorFunc(func(ch chan<- prometheus.Metric) {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		queued, failed, err := depth(ctx)
		bad := 0.0
		if err != nil {
			bad = 1
		}
		ch <- prometheus.MustNewConstMetric(descMailScrapeError, prometheus.GaugeValue, bad)
		if err == nil {
			ch <- prometheus.MustNewConstMetric(descMailQueued, prometheus.GaugeValue, float64(queued))
			ch <- prometheus.MustNewConstMetric(descMailFailed, prometheus.GaugeValue, float64(failed))
		}
	}))
	return func(purpose, outcome string) { total.WithLabelValues(purpose, outcome).Inc() }
}

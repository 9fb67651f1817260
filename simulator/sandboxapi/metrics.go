package sandboxapi

import (
	"net/http"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/kycsim/kycsim/simulator/sandbox"
)

// Metrics are the sandbox's Prometheus metrics, all named kycsim_*.
type Metrics struct {
	registry  *prometheus.Registry
	requests  *prometheus.CounterVec
	delivered prometheus.Counter
	failed    prometheus.Counter
	attempts  *prometheus.CounterVec
	latency   prometheus.Histogram
	pending   prometheus.GaugeFunc
}

// NewMetrics returns the metrics of one replica, each labelled with its
// name (replica="..."), so that the replicas behind one load balancer
// can be told apart and summed; pending reports the callbacks waiting to
// be delivered by all replicas (read when scraped).
func NewMetrics(replica string, pending func() float64) *Metrics {
	m := &Metrics{registry: prometheus.NewRegistry()}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kycsim_http_requests_total", Help: "Requests to the sandbox by route template and status.",
	}, []string{"route", "status"})
	m.delivered = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "kycsim_callbacks_delivered_total", Help: "Callbacks acknowledged with a 2xx.",
	})
	m.failed = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "kycsim_callbacks_failed_total", Help: "Callbacks whose retry policy ran out without a 2xx.",
	})
	m.attempts = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kycsim_callback_attempts_total", Help: "Delivery attempts by product and answer class (2xx, 4xx, 5xx, error).",
	}, []string{"product", "class"})
	m.latency = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "kycsim_delivery_latency_seconds", Help: "Time from sending a callback to the end of the receiver's answer.",
		Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
	})
	m.pending = prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "kycsim_callbacks_pending", Help: "Callbacks waiting for their next attempt.",
	}, pending)
	prometheus.WrapRegistererWith(prometheus.Labels{"replica": replica}, m.registry).
		MustRegister(m.requests, m.delivered, m.failed, m.attempts, m.latency, m.pending)
	return m
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}

// request counts a request.
func (m *Metrics) request(route string, status int) {
	m.requests.WithLabelValues(route, strconv.Itoa(status)).Inc()
}

// Attempt counts a delivery attempt and its outcome (an Outbox's
// OnAttempt).
func (m *Metrics) Attempt(d *sandbox.Delivery, o sandbox.Outcome) {
	a := o.Attempt
	class := "error"
	switch {
	case a.Status >= 200 && a.Status < 300:
		class = "2xx"
	case a.Status >= 400 && a.Status < 500:
		class = "4xx"
	case a.Status >= 500:
		class = "5xx"
	case a.Status > 0:
		class = strconv.Itoa(a.Status/100) + "xx"
	}
	m.attempts.WithLabelValues(d.Product, class).Inc()
	if a.Status > 0 {
		m.latency.Observe(a.Latency.Seconds())
	}
	switch o.State {
	case sandbox.Delivered:
		m.delivered.Inc()
	case sandbox.Failed:
		m.failed.Inc()
	}
}

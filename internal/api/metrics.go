package api

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/verdict-pdp/verdict/internal/facts"
)

// Metrics are the Prometheus metrics of a PDP, on a registry of their own
// (never the global one), so that several servers can live in one process.
type Metrics struct {
	reg       *prometheus.Registry
	decisions *prometheus.CounterVec
	latency   *prometheus.HistogramVec
	errors    *prometheus.CounterVec
}

// NewMetrics registers the PDP's metrics; cache, when not nil, is exported too.
func NewMetrics(cache *facts.Cache) *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "verdict_decisions_total", Help: "Decisions by resource type and result.",
		}, []string{"type", "result"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "verdict_decision_duration_seconds", Help: "Time to decide (facts and policy evaluation).",
			Buckets: []float64{.00005, .0001, .00025, .0005, .001, .0025, .005, .01, .025, .1},
		}, []string{"type"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "verdict_decision_errors_total", Help: "Decisions denied because of an error, by error code (unavailable = Redis).",
		}, []string{"code"}),
	}
	m.reg.MustRegister(m.decisions, m.latency, m.errors, prometheus.NewGoCollector(), prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{}))
	if cache != nil {
		stat := func(name, help string, f func(facts.CacheStats) uint64) {
			m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help},
				func() float64 { return float64(f(cache.Stats())) }))
		}
		stat("verdict_facts_cache_hits_total", "Decisions answered from cached facts.", func(s facts.CacheStats) uint64 { return s.Hits })
		stat("verdict_facts_cache_misses_total", "Decisions that read facts from Redis.", func(s facts.CacheStats) uint64 { return s.Misses })
		stat("verdict_facts_cache_stale_total", "Decisions answered from cached facts while Redis was unreachable (within --stale-facts-max).", func(s facts.CacheStats) uint64 { return s.Stale })
		stat("verdict_facts_cache_probes_total", "Revision checks made before cached facts answered while the change feed was down.", func(s facts.CacheStats) uint64 { return s.Probes })
		stat("verdict_facts_cache_refused_total", "Decisions denied because Redis was unreachable and the cached facts were older than --stale-facts-max.", func(s facts.CacheStats) uint64 { return s.Refused })
		gauge := func(name, help string, f func(facts.CacheStats) int) {
			m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help},
				func() float64 { return float64(f(cache.Stats())) }))
		}
		gauge("verdict_facts_cache_entries", "Subject facts held (bounded by --facts-cache).", func(s facts.CacheStats) int { return s.Entries })
		gauge("verdict_facts_cache_orgs", "Orgs with facts held or read in flight.", func(s facts.CacheStats) int { return s.Orgs })
	}
	return m
}

// Handler serves the metrics.
func (m *Metrics) Handler() http.Handler { return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}) }

// Registry lets other parts register their metrics.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

func (m *Metrics) observe(typ string, decision bool, err error, d time.Duration) {
	result := "deny"
	if decision {
		result = "permit"
	}
	if err != nil {
		result = "error"
		m.errors.WithLabelValues(string(codeOf(err))).Inc()
	}
	m.decisions.WithLabelValues(typ, result).Inc()
	m.latency.WithLabelValues(typ).Observe(d.Seconds())
}

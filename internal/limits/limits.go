// Package limits bounds the work a PDP's HTTP server takes on at once:
// requests in progress (--max-requests) and bundle long polls waiting
// (--max-long-polls). Past a bound a request is answered at once, 503
// unavailable with Retry-After in the one error shape, and counted in
// verdict_http_rejected_total{reason}; it is never queued, so a flood costs
// a goroutine per connection for as long as it takes to refuse it, never
// memory that grows with the flood. docs/limits.md lists every bound.
//
// Liveness, readiness and metrics are never limited: operators must see an
// overload. A long poll gives its request slot back while it waits (it holds
// a long-poll slot instead), so edges waiting for bundles never starve
// decisions.
//
// A Limiter holds only its semaphores and counters; it is safe for
// concurrent use.
package limits

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/verdict-pdp/verdict/internal/frontdoor"
	"github.com/verdict-pdp/verdict/internal/verr"
)

// Defaults of the bounds.
const (
	DefaultMaxRequests  = 1024
	DefaultMaxLongPolls = 1024
	// RetryAfter is what a refused caller is told to wait.
	RetryAfter = time.Second
)

// Reasons of verdict_http_rejected_total.
const (
	ReasonRequests  = "max_requests"
	ReasonLongPolls = "max_long_polls"
)

// Config of a Limiter.
type Config struct {
	// MaxRequests bounds the requests in progress (default
	// DefaultMaxRequests).
	MaxRequests int
	// MaxLongPolls bounds the bundle long polls waiting (default
	// DefaultMaxLongPolls).
	MaxLongPolls int
	// Registry, when set, receives verdict_http_rejected_total.
	Registry prometheus.Registerer
}

// Validate fills defaults.
func (c *Config) Validate() error {
	if c.MaxRequests < 0 {
		return verr.New(verr.InvalidInput, "max-requests", "must not be negative")
	}
	if c.MaxLongPolls < 0 {
		return verr.New(verr.InvalidInput, "max-long-polls", "must not be negative")
	}
	if c.MaxRequests == 0 {
		c.MaxRequests = DefaultMaxRequests
	}
	if c.MaxLongPolls == 0 {
		c.MaxLongPolls = DefaultMaxLongPolls
	}
	return nil
}

// Limiter is the middleware.
type Limiter struct {
	requests chan struct{}
	polls    chan struct{}
	rejected *prometheus.CounterVec
}

// New returns a Limiter; its counter is registered on cfg.Registry.
func New(cfg Config) (*Limiter, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	l := &Limiter{
		requests: make(chan struct{}, cfg.MaxRequests),
		polls:    make(chan struct{}, cfg.MaxLongPolls),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "verdict_http_rejected_total",
			Help: "Requests answered 503 at once because a bound was reached (reason: max_requests, max_long_polls).",
		}, []string{"reason"}),
	}
	// Both series exist from the start: an alert on their rate needs no
	// first rejection.
	l.rejected.WithLabelValues(ReasonRequests)
	l.rejected.WithLabelValues(ReasonLongPolls)
	if cfg.Registry != nil {
		if err := cfg.Registry.Register(l.rejected); err != nil {
			return nil, verr.Wrap(verr.Internal, "", err, "registering limits metrics: %v", err)
		}
	}
	return l, nil
}

// exempt are the operational endpoints, never limited.
func exempt(path string) bool {
	return path == "/health" || path == "/ready" || path == "/metrics"
}

type ctxKey struct{}

// slot is a request's hold on the request semaphore.
type slot struct {
	l    *Limiter
	once sync.Once
}

func (s *slot) release() { s.once.Do(func() { <-s.l.requests }) }

// Wrap limits next.
func (l *Limiter) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if exempt(r.URL.Path) {
			next.ServeHTTP(w, r)
			return
		}
		select {
		case l.requests <- struct{}{}:
		default:
			l.refuse(w, ReasonRequests, "the server is at its limit of requests in progress (--max-requests)")
			return
		}
		s := &slot{l: l}
		defer s.release()
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, s)))
	})
}

// refuse answers 503 with Retry-After, counted.
func (l *Limiter) refuse(w http.ResponseWriter, reason, msg string) {
	l.rejected.WithLabelValues(reason).Inc()
	w.Header().Set("Retry-After", strconv.Itoa(int(RetryAfter/time.Second)))
	frontdoor.WriteError(w, verr.New(verr.Unavailable, "", "%s; retry later", msg))
}

// LongPoll is called by a handler about to wait (a bundle long poll) on a
// request that Wrap let in: it takes a long-poll slot and gives the
// request's slot back. ok is false past --max-long-polls: the request was
// answered 503 and the handler must stop. done gives the long-poll slot
// back. Outside a Limiter (tests, tools) it always lets the wait happen.
func LongPoll(w http.ResponseWriter, r *http.Request) (done func(), ok bool) {
	s, _ := r.Context().Value(ctxKey{}).(*slot)
	if s == nil {
		return func() {}, true
	}
	l := s.l
	select {
	case l.polls <- struct{}{}:
	default:
		l.refuse(w, ReasonLongPolls, "the server is at its limit of waiting long polls (--max-long-polls)")
		return nil, false
	}
	s.release()
	return func() { <-l.polls }, true
}

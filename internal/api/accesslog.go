package api

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/verdict-pdp/verdict/internal/tracing"
	"github.com/verdict-pdp/verdict/internal/verr"
)

// Access log modes (--access-log).
const (
	AccessLogAll    = "all"    // one line per request
	AccessLogErrors = "errors" // only requests answered 4xx or 5xx
	AccessLogOff    = "off"
)

// ObserveConfig says what Observe does around every request.
type ObserveConfig struct {
	// AccessLog is all (default), errors or off.
	AccessLog string
	// Log receives the access log lines (at Info).
	Log *slog.Logger
	// Tracing opens each request's span; nil or off: no spans.
	Tracing *tracing.Tracing
}

// Validate checks the configuration and fills in defaults.
func (c *ObserveConfig) Validate() error {
	switch c.AccessLog {
	case "":
		c.AccessLog = AccessLogAll
	case AccessLogAll, AccessLogErrors, AccessLogOff:
	default:
		e := verr.New(verr.InvalidInput, "access-log", "must be all, errors or off, not %q", c.AccessLog)
		e.Allowed = []string{AccessLogAll, AccessLogErrors, AccessLogOff}
		return e
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	return nil
}

// Observe wraps a server's whole handler (API, console, bundles): it opens
// the request's span (continuing the caller's trace from its traceparent
// header) and writes one access log line per request. With both off it
// returns next itself: nothing is paid per request.
func Observe(next http.Handler, cfg ObserveConfig) (http.Handler, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	traced := cfg.Tracing != nil && cfg.Tracing.Enabled()
	if !traced && cfg.AccessLog == AccessLogOff {
		return next, nil
	}
	o := &observer{next: next, cfg: cfg}
	if traced {
		o.tracer = cfg.Tracing.Provider().Tracer(tracing.Instrumentation)
	}
	return o, nil
}

type observer struct {
	next   http.Handler
	cfg    ObserveConfig
	tracer trace.Tracer // nil: tracing off
}

var propagator = propagation.TraceContext{}

func (o *observer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rec := &record{}
	ctx := context.WithValue(r.Context(), recordKey{}, rec)
	var span trace.Span
	if o.tracer != nil {
		ctx = propagator.Extract(ctx, propagation.HeaderCarrier(r.Header))
		ctx, span = o.tracer.Start(ctx, r.Method, trace.WithSpanKind(trace.SpanKindServer),
			trace.WithAttributes(attribute.String("http.request.method", r.Method), attribute.String("url.path", r.URL.Path)))
	}
	rw := &recorder{ResponseWriter: w}
	o.next.ServeHTTP(rw, r.WithContext(ctx))
	status := rw.status
	if status == 0 {
		status = http.StatusOK // a handler that wrote nothing
	}
	route, id, org := rec.get()
	if span != nil {
		if span.IsRecording() {
			if route != "" {
				span.SetName(r.Method + " " + route)
				span.SetAttributes(attribute.String("http.route", route))
			}
			span.SetAttributes(attribute.Int("http.response.status_code", status))
			if id != "" {
				span.SetAttributes(tracing.DecisionIDKey.String(id))
			}
			if org != "" {
				span.SetAttributes(attribute.String("verdict.org", org))
			}
			if status >= 500 {
				span.SetStatus(codes.Error, http.StatusText(status))
			}
		}
		span.End()
	}
	if o.cfg.AccessLog == AccessLogAll || (o.cfg.AccessLog == AccessLogErrors && status >= 400) {
		o.logLine(ctx, r, rw, status, start, route, id, org, span)
	}
}

// logLine writes the request's access log line: durations in milliseconds
// (a float: 0.153 is 153 µs), the route's template rather than its path
// when the API routed it (ids in paths stay out of the log's cardinality).
func (o *observer) logLine(ctx context.Context, r *http.Request, rw *recorder, status int, start time.Time, route, id, org string, span trace.Span) {
	path := route
	if path == "" {
		path = r.URL.Path
		if len(path) > 256 {
			path = path[:256]
		}
	}
	attrs := make([]slog.Attr, 0, 10)
	attrs = append(attrs,
		slog.String("method", r.Method),
		slog.String("path", path),
		slog.Int("status", status),
		slog.Float64("duration_ms", float64(time.Since(start))/float64(time.Millisecond)),
		slog.Int64("bytes", rw.bytes),
		slog.String("remote", r.RemoteAddr),
	)
	if org != "" {
		attrs = append(attrs, slog.String("org", org))
	}
	if id != "" {
		attrs = append(attrs, slog.String("decision_id", id))
	}
	if rid := r.Header.Get("X-Request-ID"); rid != "" {
		attrs = append(attrs, slog.String("request_id", rid))
	}
	if span != nil {
		if sc := span.SpanContext(); sc.IsSampled() {
			attrs = append(attrs, slog.String("trace_id", sc.TraceID().String()))
		}
	}
	o.cfg.Log.LogAttrs(ctx, slog.LevelInfo, "request", attrs...)
}

// record is what the handlers tell Observe about a request: its route,
// the id of its decision (a request of one decision) and its org. Batch
// items decide on several goroutines, hence the lock.
type record struct {
	mu             sync.Mutex
	route, id, org string
}

type recordKey struct{}

func (r *record) get() (route, id, org string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.route, r.id, r.org
}

func recordOf(c *gin.Context) *record {
	rec, _ := c.Request.Context().Value(recordKey{}).(*record)
	return rec
}

// noteRoute tells Observe the route's template (/v1/filters/:id).
func noteRoute(c *gin.Context) {
	if rec := recordOf(c); rec != nil {
		route := c.FullPath()
		rec.mu.Lock()
		rec.route = route
		rec.mu.Unlock()
	}
	c.Next()
}

// noteDecision tells Observe the id of the request's one decision.
func noteDecision(c *gin.Context, id string) {
	if rec := recordOf(c); rec != nil {
		rec.mu.Lock()
		rec.id = id
		rec.mu.Unlock()
	}
}

// noteOrg tells Observe the org the request is about (the first one named).
func noteOrg(c *gin.Context, org string) {
	if rec := recordOf(c); rec != nil && org != "" {
		rec.mu.Lock()
		if rec.org == "" {
			rec.org = org
		}
		rec.mu.Unlock()
	}
}

// recorder notes the status and size of an answer.
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *recorder) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *recorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

// Flush passes through: bundle long polls and the console flush.
func (w *recorder) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (w *recorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

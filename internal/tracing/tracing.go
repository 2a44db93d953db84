// Package tracing is Verdict's OpenTelemetry tracing: a tracer provider
// exporting spans over OTLP/HTTP (protobuf) when an endpoint is configured,
// and nothing at all otherwise (off by default), plus Child, the one way the
// decision path opens a span.
//
// No global is set: a server keeps its provider (the HTTP layer starts the
// request's span with it), and deeper layers (facts, engine) open their
// spans as children of the span in their context, with its provider. With
// tracing off, or a request not sampled, that span does not record and
// Child returns at once without allocating: the hot path pays one context
// lookup per span it would have opened.
//
// A Tracing is safe for concurrent use; Shutdown flushes the spans still
// queued.
package tracing

import (
	"context"
	"errors"
	"net/url"
	"os"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/verdict-pdp/verdict/internal/verr"
)

// Instrumentation is the name of Verdict's tracer.
const Instrumentation = "github.com/verdict-pdp/verdict"

// DecisionIDKey is the span attribute of a decision's id: OPA's own, so that
// tools that find OPA's decisions in traces find Verdict's.
const DecisionIDKey = attribute.Key("opa.decision_id")

// Config of tracing.
type Config struct {
	// Endpoint is the OTLP/HTTP collector: a URL (http://collector:4318;
	// a URL without a path gets /v1/traces) or host:port (HTTPS unless
	// Insecure). "" turns tracing off unless the standard variables
	// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or OTEL_EXPORTER_OTLP_ENDPOINT are
	// set (the exporter then reads them, and OTEL_EXPORTER_OTLP_HEADERS, as
	// the OpenTelemetry specification says).
	Endpoint string
	// Insecure sends to a host:port endpoint over plain HTTP.
	Insecure bool
	// SampleRatio is the share of traces started here that are recorded
	// (default 1; a request whose caller sent a traceparent follows the
	// caller's choice).
	SampleRatio float64
	// ServiceName names the process in the traces (OTEL_SERVICE_NAME wins).
	ServiceName string
}

// Validate checks the configuration and fills in defaults.
func (c *Config) Validate() error {
	if c.SampleRatio < 0 || c.SampleRatio > 1 {
		return verr.New(verr.InvalidInput, "otlp-sample-ratio", "must be in [0, 1], not %v", c.SampleRatio)
	}
	if c.SampleRatio == 0 {
		c.SampleRatio = 1
	}
	if c.ServiceName == "" {
		c.ServiceName = "verdict"
	}
	if c.Endpoint != "" {
		if _, err := c.endpointURL(); err != nil {
			return err
		}
	}
	return nil
}

// On says whether spans are exported: an endpoint, or the standard
// variables.
func (c *Config) On() bool {
	return c.Endpoint != "" || os.Getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != "" || os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != ""
}

// endpointURL is Endpoint as the exporter's URL.
func (c *Config) endpointURL() (string, error) {
	e := c.Endpoint
	if !strings.Contains(e, "://") {
		scheme := "https://"
		if c.Insecure {
			scheme = "http://"
		}
		e = scheme + e
	}
	u, err := url.Parse(e)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", verr.New(verr.InvalidInput, "otlp-endpoint", "not a collector URL or host:port: %q", c.Endpoint)
	}
	if u.Path == "" || u.Path == "/" {
		u.Path = "/v1/traces"
	}
	return u.String(), nil
}

// Tracing is a running tracer provider (or the no-op one).
type Tracing struct {
	provider trace.TracerProvider
	shutdown func(context.Context) error
}

// Start returns the tracing cfg asks for: a provider exporting in batches
// to the collector, or, when off, the no-op provider.
func Start(ctx context.Context, cfg Config) (*Tracing, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if !cfg.On() {
		return &Tracing{provider: noop.NewTracerProvider(), shutdown: func(context.Context) error { return nil }}, nil
	}
	var opts []otlptracehttp.Option
	if cfg.Endpoint != "" {
		u, err := cfg.endpointURL()
		if err != nil {
			return nil, err
		}
		opts = append(opts, otlptracehttp.WithEndpointURL(u))
	}
	exp, err := otlptracehttp.New(ctx, opts...)
	if err != nil {
		return nil, verr.Wrap(verr.InvalidInput, "otlp-endpoint", err, "OTLP exporter: %v", err)
	}
	res, err := resource.New(ctx, resource.WithAttributes(attribute.String("service.name", cfg.ServiceName)), resource.WithFromEnv())
	if err != nil && !errors.Is(err, resource.ErrPartialResource) {
		return nil, verr.Wrap(verr.InvalidInput, "otlp-endpoint", err, "OTEL_RESOURCE_ATTRIBUTES: %v", err)
	}
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithBatcher(exp),
		sdktrace.WithResource(res),
		sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.TraceIDRatioBased(cfg.SampleRatio))),
	)
	return &Tracing{provider: tp, shutdown: tp.Shutdown}, nil
}

// Provider is the tracer provider (no-op when off).
func (t *Tracing) Provider() trace.TracerProvider { return t.provider }

// Enabled says whether spans may be recorded.
func (t *Tracing) Enabled() bool {
	_, off := t.provider.(noop.TracerProvider)
	return !off
}

// Shutdown flushes queued spans and stops the exporter.
func (t *Tracing) Shutdown(ctx context.Context) error { return t.shutdown(ctx) }

// nonRecording is made once: a struct converted to an interface on every
// call would allocate.
var nonRecording trace.Span = noop.Span{}

// Recording is the span of ctx when it records, else nil: set attributes
// on it only then (building them costs when nobody reads them).
func Recording(ctx context.Context) trace.Span {
	if s := trace.SpanFromContext(ctx); s.IsRecording() {
		return s
	}
	return nil
}

// Child opens a span under the one in ctx, with that span's provider, only
// when that span records; otherwise it returns ctx and a span that records
// nothing, allocating nothing. End the span it returns either way.
func Child(ctx context.Context, name string) (context.Context, trace.Span) {
	parent := trace.SpanFromContext(ctx)
	if !parent.IsRecording() {
		return ctx, nonRecording
	}
	return parent.TracerProvider().Tracer(Instrumentation).Start(ctx, name)
}

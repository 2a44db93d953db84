package tracing

import (
	"context"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

func TestConfig(t *testing.T) {
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "")
	t.Setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "")
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{Endpoint: "http://collector:4318"}, "http://collector:4318/v1/traces"},
		{Config{Endpoint: "https://collector/otlp/v1/traces"}, "https://collector/otlp/v1/traces"},
		{Config{Endpoint: "collector:4318"}, "https://collector:4318/v1/traces"},
		{Config{Endpoint: "collector:4318", Insecure: true}, "http://collector:4318/v1/traces"},
	} {
		if err := tc.cfg.Validate(); err != nil {
			t.Fatal(err)
		}
		if u, err := tc.cfg.endpointURL(); err != nil || u != tc.want {
			t.Errorf("%+v: %q %v, want %q", tc.cfg, u, err, tc.want)
		}
	}
	for _, bad := range []Config{{Endpoint: "ftp://x"}, {SampleRatio: 1.5}, {SampleRatio: -1}} {
		if err := bad.Validate(); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
	off, err := Start(context.Background(), Config{})
	if err != nil || off.Enabled() {
		t.Errorf("no endpoint, no variable: enabled %v, %v", off.Enabled(), err)
	}
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318")
	on, err := Start(context.Background(), Config{})
	if err != nil || !on.Enabled() {
		t.Errorf("OTEL_EXPORTER_OTLP_ENDPOINT set: enabled %v, %v", on.Enabled(), err)
	}
	// Nothing was recorded: the shutdown has nothing to send.
	if err := on.Shutdown(context.Background()); err != nil {
		t.Error(err)
	}
}

// TestChild: under a recording span Child opens a child with the parent's
// provider; under none (tracing off) it opens nothing and allocates nothing.
func TestChild(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	ctx, parent := tp.Tracer("test").Start(context.Background(), "request")
	cctx, child := Child(ctx, "verdict.eval")
	if Recording(cctx) == nil {
		t.Error("the child does not record")
	}
	child.End()
	parent.End()
	spans := exp.GetSpans()
	if len(spans) != 2 || spans[0].Name != "verdict.eval" || spans[0].Parent.SpanID() != parent.SpanContext().SpanID() {
		t.Errorf("spans %v", spans.Snapshots())
	}

	bg := context.Background()
	if allocs := testing.AllocsPerRun(100, func() {
		c, s := Child(bg, "verdict.eval")
		if Recording(c) != nil {
			t.Fatal("a span records without tracing")
		}
		s.End()
	}); allocs != 0 {
		t.Errorf("Child without tracing allocates %v times", allocs)
	}
}

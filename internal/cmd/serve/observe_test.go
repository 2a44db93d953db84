package serve

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/verdict-pdp/verdict/client"
	"github.com/verdict-pdp/verdict/internal/cmd/importexport"
	"github.com/verdict-pdp/verdict/internal/testutil/redistest"
)

// collector is a real OTLP/HTTP receiver: it decodes the exporter's
// protobuf requests and keeps their spans.
type collector struct {
	mu    sync.Mutex
	spans []*tracepb.Span
}

func (c *collector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var body io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		body = zr
	}
	raw, err := io.ReadAll(body)
	if err != nil || r.URL.Path != "/v1/traces" {
		http.Error(w, "bad request", 400)
		return
	}
	var req coltracepb.ExportTraceServiceRequest
	if err := proto.Unmarshal(raw, &req); err != nil {
		http.Error(w, err.Error(), 400)
		return
	}
	c.mu.Lock()
	for _, rs := range req.ResourceSpans {
		for _, ss := range rs.ScopeSpans {
			c.spans = append(c.spans, ss.Spans...)
		}
	}
	c.mu.Unlock()
	out, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{})
	w.Header().Set("Content-Type", "application/x-protobuf")
	_, _ = w.Write(out)
}

// attr is a span attribute as text ("" when absent).
func attr(s *tracepb.Span, key string) string {
	for _, kv := range s.Attributes {
		if kv.Key != key {
			continue
		}
		if b, ok := kv.Value.Value.(*commonpb.AnyValue_BoolValue); ok {
			return strconv.FormatBool(b.BoolValue)
		}
		return kv.Value.GetStringValue()
	}
	return ""
}

// startObserved runs a central PDP on a real Redis holding the demo org,
// its log in a buffer (JSON lines) and its decision log in another.
func startObserved(t *testing.T, cfg Config) (*Server, *syncBuffer, *syncBuffer) {
	t.Helper()
	rs := redistest.Start(t)
	var out, errOut bytes.Buffer
	if code := importexport.Import(context.Background(), []string{"../../../data/demo.json", "--redis-url", rs.URL()}, &out, &errOut); code != 0 {
		t.Fatalf("import: %d %s %s", code, out.String(), errOut.String())
	}
	cfg.RedisURL, cfg.Auth, cfg.Addr, cfg.DefaultOrg = rs.URL(), "none", "127.0.0.1:0", "demo"
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	logs, decisions := &syncBuffer{}, &syncBuffer{}
	srv, err := Start(context.Background(), &cfg, slog.New(slog.NewJSONHandler(logs, nil)), decisions)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	return srv, logs, decisions
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) lines(t *testing.T, msg string) []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []map[string]any
	for _, l := range strings.Split(s.b.String(), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("not a JSON line: %q", l)
		}
		if msg == "" || m["msg"] == msg {
			out = append(out, m)
		}
	}
	return out
}

var maria = client.EvaluationRequest{Subject: &client.Subject{Type: "user", ID: "u-maria"}, Action: &client.Action{Name: "access"},
	Resource: &client.Resource{Type: "solution", ID: "mortgage"}, Context: client.Context{"org": "demo", "environment": "prod"}}

// TestTracing sends the spans of a PDP through the real OTLP/HTTP exporter
// to a receiver: the request's span (continuing the caller's trace), the
// decision's, the facts read (a cache miss only) and the evaluation, all
// with the decision id the answer and the decision log carry.
func TestTracing(t *testing.T) {
	var col collector
	recv := httptest.NewServer(&col)
	t.Cleanup(recv.Close)
	srv, _, decisions := startObserved(t, Config{OTLPEndpoint: recv.URL, DecisionLog: "-", AccessLog: "off"})
	c, err := client.New(client.Config{BaseURL: "http://" + srv.Addr})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	first, err := c.Evaluate(ctx, maria)
	if err != nil || !first.Decision || first.DecisionID() == "" {
		t.Fatalf("first: %+v %v", first, err)
	}
	// The same question again, until the decision cache answers it (the
	// change feed's first resync may drop what the first decision kept),
	// the last time in the caller's trace.
	const parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	ids := []string{first.DecisionID()}
	for i := range 20 {
		body, _ := json.Marshal(maria)
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+srv.Addr+"/access/v1/evaluation", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if i == 19 {
			req.Header.Set("traceparent", parent)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var d client.Decision
		err = json.NewDecoder(resp.Body).Decode(&d)
		resp.Body.Close()
		if err != nil || d.DecisionID() == "" || d.DecisionID() == ids[len(ids)-1] {
			t.Fatalf("decision %d: %+v %v", i, d, err)
		}
		ids = append(ids, d.DecisionID())
		time.Sleep(10 * time.Millisecond) // lets the feed settle: pacing, not a measurement
	}
	srv.Close() // flushes the exporter

	col.mu.Lock()
	defer col.mu.Unlock()
	byID := map[string][]*tracepb.Span{} // decision id -> its spans
	bySpan := map[string]*tracepb.Span{}
	for _, s := range col.spans {
		bySpan[string(s.SpanId)] = s
	}
	for _, s := range col.spans {
		// A span belongs to the decision whose id it or an ancestor carries.
		for a := s; a != nil; a = bySpan[string(a.ParentSpanId)] {
			if id := attr(a, "opa.decision_id"); id != "" {
				byID[id] = append(byID[id], s)
				break
			}
		}
	}
	names := func(id string) map[string]*tracepb.Span {
		out := map[string]*tracepb.Span{}
		for _, s := range byID[id] {
			out[s.Name] = s
		}
		return out
	}
	one := names(first.DecisionID())
	for _, n := range []string{"POST /access/v1/evaluation", "verdict.decision", "verdict.facts.read", "verdict.eval"} {
		if one[n] == nil {
			t.Errorf("first decision: no span %q among %d spans", n, len(col.spans))
		}
	}
	if s := one["POST /access/v1/evaluation"]; s != nil && (s.Kind != tracepb.Span_SPAN_KIND_SERVER || attr(s, "http.route") != "/access/v1/evaluation" || attr(s, "verdict.org") != "demo") {
		t.Errorf("request span: %v", s)
	}
	if s := one["verdict.decision"]; s != nil && (attr(s, "verdict.facts_cache.hit") != "false" || attr(s, "verdict.decision") != "true") {
		t.Errorf("decision span: %v", s.Attributes)
	}
	// Every decision has its request's span and its own; the facts were
	// read (a span) exactly when neither cache answered.
	cached := 0
	for _, id := range ids {
		sp := names(id)
		d := sp["verdict.decision"]
		if sp["POST /access/v1/evaluation"] == nil || d == nil {
			t.Errorf("decision %s: spans %v", id, sp)
			continue
		}
		fromCache := attr(d, "verdict.decision_cache.hit") == "true" || attr(d, "verdict.facts_cache.hit") == "true"
		if attr(d, "verdict.decision_cache.hit") == "true" {
			cached++
		}
		if fromCache == (sp["verdict.facts.read"] != nil) {
			t.Errorf("decision %s: from a cache %v, a facts read span %v", id, fromCache, sp["verdict.facts.read"] != nil)
		}
	}
	if cached == 0 {
		t.Errorf("no decision of %d was answered from the decision cache", len(ids))
	}
	last := names(ids[len(ids)-1])["POST /access/v1/evaluation"]
	if last != nil && (hex.EncodeToString(last.TraceId) != "4bf92f3577b34da6a3ce929d0e0e4736" || hex.EncodeToString(last.ParentSpanId) != "00f067aa0ba902b7") {
		t.Errorf("the caller's trace was not continued: trace %x parent %x", last.TraceId, last.ParentSpanId)
	}
	// The decision log names the same decisions, with their traces.
	entries := decisions.lines(t, "")
	if len(entries) != len(ids) || entries[0]["decision_id"] != ids[0] || entries[len(ids)-1]["decision_id"] != ids[len(ids)-1] ||
		entries[len(ids)-1]["trace_id"] != "4bf92f3577b34da6a3ce929d0e0e4736" {
		t.Errorf("decision log: %v", entries)
	}
}

// TestAccessLog: one line per request with the route's template, status,
// duration in milliseconds, bytes, org and decision id (the answer's, when
// decisions are logged); errors mode keeps the 4xx and 5xx only; off writes
// none; and a decision without logging or tracing carries no id.
func TestAccessLog(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	post := func(base, path, body string) int {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Request-ID", "req-1")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}

	t.Run("all", func(t *testing.T) {
		srv, logs, _ := startObserved(t, Config{DecisionLog: "-"})
		base := "http://" + srv.Addr
		c, err := client.New(client.Config{BaseURL: base})
		if err != nil {
			t.Fatal(err)
		}
		d, err := c.Evaluate(ctx, maria)
		if err != nil || d.DecisionID() == "" {
			t.Fatalf("%+v %v", d, err)
		}
		if code := post(base, "/v1/filters/applications_by_branch", `{"user": "u-tom"}`); code != 200 {
			t.Fatalf("filter: %d", code)
		}
		if code := post(base, "/v1/filters/x", `{"org": "Not An Org", "user": "u-tom"}`); code != 400 {
			t.Fatalf("bad org: %d", code)
		}
		lines := logs.lines(t, "request")
		if len(lines) != 3 {
			t.Fatalf("%d access log lines, want 3: %v", len(lines), lines)
		}
		ev := lines[0]
		if ev["level"] != "INFO" || ev["method"] != "POST" || ev["path"] != "/access/v1/evaluation" || ev["status"] != 200.0 ||
			ev["org"] != "demo" || ev["decision_id"] != d.DecisionID() || ev["bytes"].(float64) <= 0 || !strings.HasPrefix(ev["remote"].(string), "127.0.0.1:") {
			t.Errorf("evaluation line: %v", ev)
		}
		if ms, ok := ev["duration_ms"].(float64); !ok || ms <= 0 {
			t.Errorf("duration_ms %v: want a positive number of milliseconds", ev["duration_ms"])
		}
		if f := lines[1]; f["path"] != "/v1/filters/:id" || f["status"] != 200.0 || f["org"] != "demo" || f["request_id"] != "req-1" || f["decision_id"] != nil {
			t.Errorf("filter line: %v", f)
		}
		if b := lines[2]; b["path"] != "/v1/filters/:id" || b["status"] != 400.0 {
			t.Errorf("refused line: %v", b)
		}
	})
	t.Run("errors", func(t *testing.T) {
		srv, logs, _ := startObserved(t, Config{AccessLog: "errors"})
		base := "http://" + srv.Addr
		d, err := (&clientOf{t, base}).evaluate(ctx)
		if err != nil || d.DecisionID() != "" {
			t.Errorf("without decision log and tracing: %+v %v, want no decision id", d, err)
		}
		post(base, "/no/such/route", `{}`)
		lines := logs.lines(t, "request")
		if len(lines) != 1 || lines[0]["status"] != 404.0 || lines[0]["path"] != "/no/such/route" {
			t.Errorf("errors mode: %v", lines)
		}
	})
	t.Run("off", func(t *testing.T) {
		srv, logs, _ := startObserved(t, Config{AccessLog: "off"})
		base := "http://" + srv.Addr
		post(base, "/no/such/route", `{}`)
		if _, err := (&clientOf{t, base}).evaluate(ctx); err != nil {
			t.Fatal(err)
		}
		if lines := logs.lines(t, "request"); len(lines) != 0 {
			t.Errorf("off: %v", lines)
		}
	})
	t.Run("invalid", func(t *testing.T) {
		cfg := Config{Dev: true, AccessLog: "some"}
		if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "access-log") {
			t.Errorf("access-log some: %v", err)
		}
		cfg = Config{Dev: true, OTLPSampleRatio: 2}
		if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "otlp-sample-ratio") {
			t.Errorf("ratio 2: %v", err)
		}
		cfg = Config{Dev: true, OTLPEndpoint: "ftp://x"}
		if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "otlp-endpoint") {
			t.Errorf("ftp endpoint: %v", err)
		}
	})
}

type clientOf struct {
	t    *testing.T
	base string
}

func (c *clientOf) evaluate(ctx context.Context) (client.Decision, error) {
	cl, err := client.New(client.Config{BaseURL: c.base})
	if err != nil {
		c.t.Fatal(err)
	}
	return cl.Evaluate(ctx, maria)
}

package deploy

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/verdict-pdp/verdict/internal/cmd/importexport"
	"github.com/verdict-pdp/verdict/internal/cmd/serve"
	"github.com/verdict-pdp/verdict/internal/testutil/redistest"
)

const dashboardFile = "grafana/verdict-dashboard.json"

// metricName is a metric of the project or of the Go and process collectors
// inside a PromQL expression.
var metricName = regexp.MustCompile(`\b(?:verdict|go|process)_[a-z0-9_]+\b`)

// dashboardMetrics returns, sorted, the metric names the dashboard's queries
// use (panel targets and template variables).
func dashboardMetrics(t *testing.T) []string {
	t.Helper()
	raw, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	var doc any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("%s: %v", dashboardFile, err)
	}
	set := map[string]bool{}
	var walk func(v any, key string)
	walk = func(v any, key string) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				walk(x, k)
			}
		case []any:
			for _, x := range v {
				walk(x, key)
			}
		case string:
			if key == "expr" || key == "query" || key == "definition" {
				for _, m := range metricName.FindAllString(v, -1) {
					set[m] = true
				}
			}
		}
	}
	walk(doc, "")
	out := make([]string, 0, len(set))
	for m := range set {
		out = append(out, m)
	}
	sort.Strings(out)
	return out
}

// exported scrapes /metrics and returns every series name it may hold:
// each family, and for histograms and summaries their _bucket, _sum and
// _count series.
func exported(t *testing.T, url string) (names map[string]bool, families []string) {
	t.Helper()
	resp, err := http.Get(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	names = map[string]bool{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 4 || f[0] != "#" || f[1] != "TYPE" {
			continue
		}
		name, typ := f[2], f[3]
		families = append(families, name)
		names[name] = true
		if typ == "histogram" || typ == "summary" {
			for _, s := range []string{"_bucket", "_sum", "_count"} {
				names[name+s] = true
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return names, families
}

// TestDashboardMetricsExported starts a central PDP on a real Redis with the
// demo org, makes it answer a decision and a failed business filter (so
// that the labelled series exist), scrapes /metrics, and checks that every
// metric the Grafana dashboard queries is exported, and that docs/metrics.md
// documents every verdict_* metric exported and every metric the dashboard
// uses.
func TestDashboardMetricsExported(t *testing.T) {
	rs := redistest.Start(t)
	var out, errOut bytes.Buffer
	if code := importexport.Import(context.Background(), []string{"../data/demo.json", "--redis-url", rs.URL()}, &out, &errOut); code != 0 {
		t.Fatalf("import: %d %s %s", code, out.String(), errOut.String())
	}
	cfg := serve.Config{RedisURL: rs.URL(), Auth: "none", Addr: "127.0.0.1:0"}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	srv, err := serve.Start(context.Background(), &cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	url := "http://" + srv.Addr
	for _, c := range []struct {
		path, body string
		status     int
	}{
		{"/access/v1/evaluation", `{"subject": {"type": "user", "id": "u-maria"}, "action": {"name": "access"},
			"resource": {"type": "solution", "id": "mortgage"}, "context": {"org": "demo", "environment": "prod"}}`, http.StatusOK},
		{"/v1/filters/no_such_filter", `{"org": "demo", "user": "u-tom"}`, http.StatusNotFound},
	} {
		resp, err := http.Post(url+c.path, "application/json", strings.NewReader(c.body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.status {
			t.Fatalf("POST %s: HTTP %d, want %d", c.path, resp.StatusCode, c.status)
		}
	}
	names, families := exported(t, url)

	used := dashboardMetrics(t)
	if len(used) < 5 {
		t.Fatalf("the dashboard names %d metrics (%v): the parse is broken", len(used), used)
	}
	for _, m := range used {
		if !names[m] {
			t.Errorf("the dashboard queries %s, which the server does not export", m)
		}
	}

	doc, err := os.ReadFile("../docs/metrics.md")
	if err != nil {
		t.Fatal(err)
	}
	documented := func(m string) bool { return bytes.Contains(doc, []byte("`"+m+"`")) }
	for _, f := range families {
		if strings.HasPrefix(f, "verdict_") && !documented(f) {
			t.Errorf("docs/metrics.md does not document %s", f)
		}
	}
	for _, m := range used {
		base := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(m, "_bucket"), "_sum"), "_count")
		if !documented(m) && !documented(base) {
			t.Errorf("the dashboard uses %s, which docs/metrics.md does not document", m)
		}
	}
	t.Logf("metrics the dashboard queries: %v", used)
}

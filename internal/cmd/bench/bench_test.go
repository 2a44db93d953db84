package bench

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/verdict-pdp/verdict/internal/cmd/importexport"
	"github.com/verdict-pdp/verdict/internal/cmd/serve"
	"github.com/verdict-pdp/verdict/internal/orgdoc"
	"github.com/verdict-pdp/verdict/internal/testutil/redistest"
)

const demo = "../../../data/demo.json"

// TestBreakdown loads a central PDP with the demo corpus before and after
// the demo org is imported: before, every answer is unknown_org and bench
// must say so and exit 1; after, the allow/deny counts must be those the
// corpus expects, in each protocol and batching.
func TestBreakdown(t *testing.T) {
	rs := redistest.Start(t)
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
	run := func(args ...string) (int, string, string) {
		var out, errOut bytes.Buffer
		code := Run(context.Background(), args, &out, &errOut)
		return code, out.String(), errOut.String()
	}

	// 11 evaluations, each sent 4 times by one worker: 44 answers.
	code, stdout, stderr := run("--url", url, "--concurrency", "1", "--max-requests", "44", demo)
	if code != 1 || !strings.Contains(stdout, "\nanswers 44: allow 0 (0.0%)  deny 44 (100.0%)\ndeny reasons:  unknown_org 44 (100.0%)\n") {
		t.Errorf("without the org: exit %d, stdout %q", code, stdout)
	}
	if !strings.Contains(stderr, `hint: the PDP at `+url+` does not know org "demo": all 44 of its answers were unknown_org.`) {
		t.Errorf("without the org: no hint on stderr: %q", stderr)
	}

	var out, errOut bytes.Buffer
	if code := importexport.Import(context.Background(), []string{demo, "--redis-url", rs.URL()}, &out, &errOut); code != 0 {
		t.Fatalf("import: %d %s %s", code, out.String(), errOut.String())
	}
	raw, err := os.ReadFile(demo)
	if err != nil {
		t.Fatal(err)
	}
	corpus, err := orgdoc.DecodeCorpus(raw)
	if err != nil {
		t.Fatal(err)
	}
	var allow int64
	for _, e := range corpus.Evaluations {
		if e.Expected.Decision {
			allow++
		}
	}
	for _, tc := range []struct {
		name             string
		api, path        string
		batch            int
		maxRequests      int64
		requests, answer int64
	}{
		{name: "authzen single", api: "authzen", batch: 1, maxRequests: 44, requests: 44},
		{name: "authzen batches of 11", api: "authzen", batch: 11, maxRequests: 4, requests: 4},
		{name: "opa data API", api: "opa", path: "verdict/main/decision", batch: 1, maxRequests: 44, requests: 44},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := Config{URL: url, API: tc.api, OPAPath: tc.path, Batch: tc.batch, Concurrency: 1, MaxRequests: tc.maxRequests,
				Duration: time.Minute, Corpora: []string{demo}}
			if err := c.Validate(); err != nil {
				t.Fatal(err)
			}
			res, err := Load(context.Background(), c)
			if err != nil {
				t.Fatal(err)
			}
			var reasons int64
			for _, n := range res.Reasons {
				reasons += n
			}
			if res.Errors != 0 || res.Requests != tc.requests || res.Allow != 4*allow || res.Deny != 4*(11-allow) || reasons != res.Deny ||
				res.Reasons["unknown_org"] != 0 || res.Orgs["demo"].Answers != 44 || len(res.Orgs.Unknown(res.CorpusOrgs)) != 0 {
				t.Errorf("requests %d errors %d allow %d deny %d reasons %v orgs %v; want %d requests, allow %d, deny %d",
					res.Requests, res.Errors, res.Allow, res.Deny, res.Reasons, res.Orgs, tc.requests, 4*allow, 4*(11-allow))
			}
		})
	}
	code, stdout, stderr = run("--url", url, "--concurrency", "1", "--max-requests", "44", demo)
	if code != 0 || strings.Contains(stderr, "hint") || !strings.Contains(stdout, "\nanswers 44: allow ") || !strings.Contains(stdout, "\ndeny reasons:  ") {
		t.Errorf("with the org: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}

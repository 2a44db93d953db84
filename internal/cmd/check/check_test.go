package check

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/verdict-pdp/verdict/internal/cmd/importexport"
	"github.com/verdict-pdp/verdict/internal/cmd/serve"
	"github.com/verdict-pdp/verdict/internal/testutil/redistest"
)

const demo = "../../../data/demo.json"

func run(args ...string) (int, string, string) {
	var out, errOut bytes.Buffer
	code := Run(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// TestRemoteUnknownOrg replays the demo corpus against a central PDP whose
// Redis does not hold the demo org, then after importing it: the first run
// must say which org the server lacks and how to import it, the second pass.
func TestRemoteUnknownOrg(t *testing.T) {
	rs := redistest.Start(t)
	cfg := serve.Config{RedisURL: rs.URL(), Auth: "none", Addr: "127.0.0.1:0", DefaultOrg: "demo"}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	srv, err := serve.Start(context.Background(), &cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	url := "http://" + srv.Addr

	// The demo corpus, and a copy whose requests leave context.org out
	// (the server's default org, "demo", decides them).
	raw, err := os.ReadFile(demo)
	if err != nil {
		t.Fatal(err)
	}
	orgless := filepath.Join(t.TempDir(), "orgless.json")
	if err := os.WriteFile(orgless, bytes.ReplaceAll(raw, []byte(`"context": {"org": "demo", `), []byte(`"context": {`)), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		file   string
		stdout string
		hints  []string
	}{
		{demo, "3 passed, 10 failed\n", []string{
			`hint: the PDP at ` + url + ` does not know org "demo": all 11 of its answers were unknown_org.`,
			"Import it first: verdict import " + demo + " --redis-url REDIS_URL",
			"curl -X PUT " + url + "/admin/v1/orgs/demo",
		}},
		{orgless, "3 passed, 10 failed\n", []string{
			`hint: the PDP at ` + url + ` does not know its default org (requests without context.org): all 9 of its answers were unknown_org.`,
			"start the server with --default-org naming it, or put context.org in the requests",
			`does not know org "demo": all 2 of its answers were unknown_org.`,
		}},
	} {
		code, stdout, stderr := run(tc.file, "--url", url)
		if code != 1 || !strings.HasSuffix(stdout, tc.stdout) {
			t.Errorf("%s without the org: exit %d, stdout %q", tc.file, code, stdout)
		}
		for _, want := range tc.hints {
			if !strings.Contains(stderr, want) {
				t.Errorf("%s: stderr lacks %q:\n%s", tc.file, want, stderr)
			}
		}
	}

	var out, errOut bytes.Buffer
	if code := importexport.Import(context.Background(), []string{demo, "--redis-url", rs.URL()}, &out, &errOut); code != 0 {
		t.Fatalf("import: %d %s %s", code, out.String(), errOut.String())
	}
	code, stdout, stderr := run(demo, "--url", url)
	if code != 0 || stdout != "13 passed, 0 failed\n" || stderr != "" {
		t.Errorf("with the org: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}

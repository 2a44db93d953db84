package edge

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/verdict-pdp/verdict/internal/bundle"
	"github.com/verdict-pdp/verdict/internal/cmd/edgecmd"
	"github.com/verdict-pdp/verdict/internal/orgdoc"
	"github.com/verdict-pdp/verdict/internal/store"
	"github.com/verdict-pdp/verdict/internal/testutil/redistest"
	"github.com/verdict-pdp/verdict/policies"
)

// tomAccess is the request whose answer the writes below flip.
var tomAccess = json.RawMessage(`{"subject":{"type":"user","id":"u-tom"},"action":{"name":"access"},
	"resource":{"type":"solution","id":"mortgage"},"context":{"org":"demo","environment":"prod"}}`)

// setTom writes the demo org with tom active or disabled and returns when.
func setTom(t testing.TB, st *store.Store, base orgdoc.Org, active bool) time.Time {
	t.Helper()
	o := base
	o.Users = slices.Clone(base.Users)
	for i := range o.Users {
		if o.Users[i].ID == "u-tom" {
			o.Users[i].Status = map[bool]string{true: "active", false: "disabled"}[active]
		}
	}
	at := time.Now()
	if _, err := st.PutOrg(context.Background(), &o, -1, store.Actor{Subject: "edge test"}); err != nil {
		t.Fatal(err)
	}
	return at
}

// waitDecision polls url until tom's access is want and returns when.
func waitDecision(t testing.TB, url string, want bool, timeout time.Duration) time.Time {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		_, raw := postJSON(t, url+"/access/v1/evaluation", tomAccess)
		var d struct{ Decision bool }
		_ = json.Unmarshal(raw, &d)
		if d.Decision == want {
			return time.Now()
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: tom's access is still %v after %v: %s", url, !want, timeout, raw)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// hangGuard bounds every wait of these tests: far above any delay expected
// even on a loaded machine, it only keeps a broken build from hanging. How
// fast a write reaches an edge is a benchmark figure (BenchmarkWriteToEdge),
// never asserted by a test.
const hangGuard = 2 * time.Minute

// followSetup is a central bundle endpoint (as serve.go mounts it) over a
// real Redis holding the demo org, and an edge following it.
type followSetup struct {
	st      *store.Store
	demo    orgdoc.Org
	central *httptest.Server
	cfg     *edgecmd.Config
	edge    *edgecmd.Server
	// closeEdge stops the edge once (the test may stop it before cleanup).
	closeEdge func()
}

func startFollow(t testing.TB) *followSetup {
	rs := redistest.Start(t)
	st, err := store.Open(store.Config{URL: rs.URL()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	demo := loadCorpus(t, filepath.Join(root, "data", "demo.json")).Orgs[0]
	importOrgs(t, st, []orgdoc.Org{demo})
	k := newKeys(t)
	mods, _ := policies.Builtin()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	bs, err := bundle.NewServer(ctx, bundle.ServerConfig{Store: st, Policies: bundle.Policies{Modules: mods}, Signer: k.Signer, Log: testLog()})
	if err != nil {
		t.Fatal(err)
	}
	central := httptest.NewServer(bs.Wrap(http.NotFoundHandler()))
	t.Cleanup(central.Close)
	cfg := &edgecmd.Config{
		Addr: "127.0.0.1:0", Bundles: []string{central.URL + "/bundles/demo/prod.tar.gz"},
		VerificationKey: k.PubPath, DataDir: t.TempDir(), Auth: "none",
	}
	e, err := edgecmd.Start(context.Background(), cfg, testLog())
	if err != nil {
		t.Fatal(err)
	}
	closeEdge := sync.OnceFunc(e.Close)
	t.Cleanup(closeEdge)
	waitReady(t, "http://"+e.Addr+"/ready", hangGuard)
	waitDecision(t, "http://"+e.Addr, true, hangGuard)
	return &followSetup{st: st, demo: demo, central: central, cfg: cfg, edge: e, closeEdge: closeEdge}
}

// TestEdgeFollowsCentral: an edge fed by the central PDP's bundle endpoint
// (long polling, signed with the central's key) sees every write, and keeps
// deciding from its data dir across a restart while the central PDP is
// gone.
func TestEdgeFollowsCentral(t *testing.T) {
	f := startFollow(t)
	edge := "http://" + f.edge.Addr
	active := true
	for range 5 {
		active = !active
		setTom(t, f.st, f.demo, active)
		waitDecision(t, edge, active, hangGuard)
	}

	// The control plane goes away; the edge restarts from its data dir.
	f.closeEdge()
	f.central.Close()
	e2, err := edgecmd.Start(context.Background(), f.cfg, testLog())
	if err != nil {
		t.Fatal(err)
	}
	defer e2.Close()
	waitReady(t, "http://"+e2.Addr+"/ready", hangGuard)
	waitDecision(t, "http://"+e2.Addr, active, hangGuard)
}

// BenchmarkWriteToEdge measures one write, from the store's answer until
// the edge's decision flips: change feed, debounced bundle rebuild, long
// poll, activation (figure in docs/benchmarks.md; the design goal is 2 s).
//
//	go test -run '^$' -bench WriteToEdge -benchtime 20x ./test/edge/
func BenchmarkWriteToEdge(b *testing.B) {
	f := startFollow(b)
	edge := "http://" + f.edge.Addr
	active := true
	var worst time.Duration
	for b.Loop() {
		active = !active
		wrote := setTom(b, f.st, f.demo, active)
		worst = max(worst, waitDecision(b, edge, active, hangGuard).Sub(wrote))
	}
	b.ReportMetric(float64(worst.Milliseconds()), "max-ms")
}

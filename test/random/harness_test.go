// Package random holds the property tests over random orgs and requests
// (internal/testutil/orggen): the central PDP on Redis, an edge on bundles
// and stock OPA on the same bundles answer alike, reasons included;
// in-process and HTTP, single and batch answers agree; a plain-Go oracle of
// DESIGN.md §2 agrees with the policies; and invariants that need no oracle
// hold. A failure prints the seed and a shrunk org and request.
//
// `make test` runs a fixed seed and a time-seeded one (printed);
// `make fuzz-decisions` runs for a while (-random.duration).
package random

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/http"
	"testing"
	"time"

	"github.com/verdict-pdp/verdict/internal/assemble"
	"github.com/verdict-pdp/verdict/internal/authzen"
	"github.com/verdict-pdp/verdict/internal/decision"
	"github.com/verdict-pdp/verdict/internal/engine"
	"github.com/verdict-pdp/verdict/internal/facts"
	"github.com/verdict-pdp/verdict/internal/orgdoc"
	"github.com/verdict-pdp/verdict/internal/pdp"
	"github.com/verdict-pdp/verdict/internal/store"
	"github.com/verdict-pdp/verdict/internal/testutil/orggen"
	"github.com/verdict-pdp/verdict/internal/testutil/pdptest"
	"github.com/verdict-pdp/verdict/internal/testutil/redistest"
	"github.com/verdict-pdp/verdict/policies"
)

var (
	flagSeed     = flag.Uint64("random.seed", 0, "run only this base seed (0: the fixed seed and a time-seeded one)")
	flagCases    = flag.Int("random.cases", 10000, "random cases per run, over all base seeds")
	flagPerOrg   = flag.Int("random.per-org", 400, "requests per random org")
	flagDuration = flag.Duration("random.duration", 0, "keep running rounds of -random.cases until this much time has passed (make fuzz-decisions)")
)

// fixedSeed is the base seed every run tries.
const fixedSeed = 19

// orgSeeds derives the seeds of n orgs from a base seed.
func orgSeeds(base uint64, n int) []uint64 {
	r := rand.New(rand.NewPCG(base, 0x6a09e667f3bcc909))
	out := make([]uint64, n)
	for i := range out {
		out[i] = r.Uint64() >> 16 // short enough to type
	}
	return out
}

// rcase is one random case: an org (by its orggen seed) and a request.
type rcase struct {
	seed uint64 // orggen seed of the org
	i    int    // index of the request among the org's
	org  *orgdoc.Org
	req  orggen.Request
}

func (c rcase) String() string {
	if c.i < 0 {
		return fmt.Sprintf("org seed %d (verdict gen --random --seed %d), business filter", c.seed, c.seed)
	}
	return fmt.Sprintf("org seed %d (verdict gen --random --seed %d), request %d", c.seed, c.seed, c.i)
}

// world is every evaluator over the same random orgs.
type world struct {
	orgs  []*orgdoc.Org
	trio  pdptest.Trio
	local *pdp.Service // the decision path of `verdict serve`, in-process, on the same Redis
	doc   *pdp.Service // the whole org in memory (what a bundle holds), in-process
	st    *store.Store
	eng   *engine.Engine
}

func newEngine(t testing.TB) *engine.Engine {
	t.Helper()
	mods, err := policies.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	eng, err := engine.New(context.Background(), engine.Config{Modules: mods})
	if err != nil {
		t.Fatal(err)
	}
	return eng
}

// newWorld imports the orgs into a real Redis, starts the central PDP on
// it, builds signed bundles of them for an edge and for stock OPA, and
// makes the in-process deciders.
func newWorld(t testing.TB, orgs []*orgdoc.Org) *world {
	t.Helper()
	rs := redistest.Shared(t)
	st, err := store.Open(store.Config{URL: rs.URL()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	docs := make([]orgdoc.Org, len(orgs))
	held := map[string]bool{}
	for i, o := range orgs {
		docs[i] = *o
		held[o.Org] = true
	}
	// Both import paths: whole documents (PutOrg) and streamed ones
	// (ImportOrg, what `verdict import` does), every other org.
	for i := range docs {
		if i%2 == 0 {
			pdptest.ImportOrgs(t, st, docs[i:i+1])
			continue
		}
		raw, err := json.Marshal(&docs[i])
		if err != nil {
			t.Fatal(err)
		}
		stream, err := orgdoc.OpenStream(bytes.NewReader(raw), int64(len(raw)))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.ImportOrg(context.Background(), stream, -1, store.Actor{Subject: "random"}, nil); err != nil {
			t.Fatal(err)
		}
	}
	centralURL := "http://" + pdptest.StartCentral(t, rs.URL()).Addr
	k := pdptest.NewKeys(t)
	files := pdptest.WriteBundles(t, docs, k.Signer, t.TempDir())
	w := &world{orgs: orgs, st: st, eng: newEngine(t)}
	// Stock OPA compiles every org's policies in its own process meanwhile.
	opa, opaReady := pdptest.StartOPA(t, k.PubPath, files)
	w.trio = pdptest.Trio{
		Central: centralURL, Edge: pdptest.StartEdge(t, files, k.PubPath), OPA: opa,
		OPAOrgs: held, Client: &http.Client{Timeout: 30 * time.Second},
	}
	opaReady()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	// As `verdict serve` builds it: cached facts following the change feed.
	central, err := facts.Open(ctx, st.Client(), facts.Config{
		Reader: facts.ReaderConfig{Prefix: st.OrgPrefix},
		Feed:   facts.FeedConfig{Channel: st.ChangesChannel(), Log: pdptest.Log()},
	})
	if err != nil {
		t.Fatal(err)
	}
	if w.local, err = pdp.New(pdp.Config{Users: st}, w.eng, central); err != nil {
		t.Fatal(err)
	}
	if w.doc, err = pdp.New(pdp.Config{}, w.eng, assemble.NewDocSource(docs)); err != nil {
		t.Fatal(err)
	}
	return w
}

// evaluate asks svc one request, as canonical decision JSON.
func evaluate(svc *pdp.Service, req orggen.Request) (string, error) {
	r, err := authzen.ParseRequest(orggen.JSON(req))
	if err != nil {
		return "", err
	}
	d, err := svc.Evaluate(context.Background(), r, nil)
	if err != nil {
		return "", err
	}
	return decisionString(d)
}

func decisionString(d decision.Decision) (string, error) {
	b, err := json.Marshal(d)
	if err != nil {
		return "", err
	}
	return pdptest.DecisionJSON(b)
}

// parsed is a canonical decision JSON read back.
type parsed struct {
	Decision bool           `json:"decision"`
	Context  map[string]any `json:"context"`
}

func parse(s string) parsed {
	var p parsed
	_ = json.Unmarshal([]byte(s), &p)
	return p
}

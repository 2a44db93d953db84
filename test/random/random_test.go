package random

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/verdict-pdp/verdict/internal/orgdoc"
	"github.com/verdict-pdp/verdict/internal/pdp"
	"github.com/verdict-pdp/verdict/internal/testutil/orggen"
	"github.com/verdict-pdp/verdict/internal/testutil/pdptest"
)

// bases are the base seeds of a run: -random.seed, or the fixed seed and
// one from the clock.
func bases() []uint64 {
	if *flagSeed != 0 {
		return []uint64{*flagSeed}
	}
	return []uint64{fixedSeed, uint64(time.Now().UnixNano()) >> 20}
}

// TestRandomDecisions asks -random.cases random requests about random orgs
// of each evaluator and checks, on every case: the central PDP over HTTP,
// the edge and stock OPA answer identically (reasons included: half the
// requests ask for explanations); the same decision path in-process and
// the whole org in memory answer the same; the oracle agrees; rule 1 holds;
// the explanation agrees with the answer; and batches answer as singles.
func TestRandomDecisions(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: no random decisions")
	}
	start := time.Now()
	round := bases()
	for {
		per := max(*flagCases/len(round), 1)
		for _, base := range round {
			t.Run(fmt.Sprintf("seed=%d", base), func(t *testing.T) {
				t.Logf("base seed %d: %d cases (rerun: go test ./test/random -run TestRandomDecisions -random.seed %d)", base, per, base)
				runBase(t, base, per)
			})
		}
		if *flagDuration == 0 || time.Since(start) > *flagDuration || t.Failed() {
			return
		}
		round = []uint64{uint64(time.Now().UnixNano()) >> 20}
	}
}

// makeCases generates n cases from a base seed: orgs of -random.per-org
// requests each.
func makeCases(base uint64, n int) ([]*orgdoc.Org, []rcase) {
	per := max(*flagPerOrg, 1)
	var orgs []*orgdoc.Org
	var cases []rcase
	for _, s := range orgSeeds(base, (n+per-1)/per) {
		o := orggen.Org(s)
		orgs = append(orgs, o)
		for i, r := range orggen.Requests(o, s, min(per, n-len(cases))) {
			cases = append(cases, rcase{seed: s, i: i, org: o, req: r})
		}
	}
	return orgs, cases
}

// failures collects failing cases by property; the first of each is shrunk.
type failures struct {
	mu    sync.Mutex
	byKey map[string][]failure
	count int
}

type failure struct {
	c      rcase
	detail string
}

func (f *failures) add(prop string, c rcase, format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.byKey == nil {
		f.byKey = map[string][]failure{}
	}
	f.count++
	if len(f.byKey[prop]) < 5 {
		f.byKey[prop] = append(f.byKey[prop], failure{c, fmt.Sprintf(format, args...)})
	}
}

// report prints each failure with its seed; the first of each property is
// shrunk to a minimal org and request with the property's check.
func (f *failures) report(t *testing.T, sh *shrinker) {
	t.Helper()
	for _, prop := range slices.Sorted(maps.Keys(f.byKey)) {
		list := f.byKey[prop]
		for i, fl := range list {
			msg := fmt.Sprintf("%s: %s\n  %s\n  request: %s", prop, fl.c, fl.detail, orggen.JSON(fl.c.req))
			if i == 0 {
				msg += "\n" + sh.shrink(prop, fl.c)
			}
			t.Error(msg)
		}
	}
	if f.count > 0 {
		t.Errorf("%d failing checks in all", f.count)
	}
}

func runBase(t *testing.T, base uint64, n int) {
	t0 := time.Now()
	orgs, cases := makeCases(base, n)
	w := newWorld(t, orgs)
	t1 := time.Now()
	answers := make([]pdptest.Answers, len(cases))
	var fails failures
	parallel(len(cases), func(i int) { answers[i] = w.check(cases[i], &fails) })
	t2 := time.Now()
	batched := w.checkBatches(cases, answers, &fails)
	t3 := time.Now()
	metamorphic := w.checkMetamorphic(cases, answers, &fails)
	filters := w.checkFilters(filterCases(orgs), &fails)
	t.Logf("%d cases on %d orgs: central, edge, stock OPA, in-process (Redis and whole org) and the oracle; %d in batches; %d metamorphic comparisons; %d business filter cases",
		len(cases), len(orgs), batched, metamorphic, filters)
	t.Logf("time: %v setting up, %v single cases, %v batches, %v metamorphic", t1.Sub(t0).Round(time.Millisecond),
		t2.Sub(t1).Round(time.Millisecond), t3.Sub(t2).Round(time.Millisecond), time.Since(t3).Round(time.Millisecond))
	if fails.count > 0 {
		fails.report(t, newShrinker(t, w))
	}
}

// check runs every single-request property on one case and returns the
// answers of the three evaluators.
func (w *world) check(c rcase, f *failures) pdptest.Answers {
	req := orggen.JSON(c.req)
	a, err := w.trio.Ask(req)
	if err != nil {
		f.add("differential", c, "%v", err)
		return a
	}
	if !a.Same() {
		f.add("differential", c, "answers differ\n  central:   %s\n  edge:      %s\n  stock OPA: %s", a.Central, a.Edge, a.OPA)
	}
	local, err := evaluate(w.local, c.req)
	if err != nil || local != a.Central {
		f.add("in-process vs HTTP", c, "in-process %s (%v), over HTTP %s", local, err, a.Central)
	}
	doc, err := evaluate(w.doc, c.req)
	if err != nil || doc != a.Central {
		f.add("differential", c, "whole org in memory %s (%v), subject facts from Redis %s", doc, err, a.Central)
	}
	if msg := oracleDiffers(c.org, c.req, a.Central); msg != "" {
		f.add("oracle", c, "%s", msg)
	}
	if msg := inactiveAllowed(c.org, c.req, a.Central); msg != "" {
		f.add("rule 1: inactive or unknown users are denied", c, "%s", msg)
	}
	if msg := explanationContradicts(w.doc, c.req, a.Central); msg != "" {
		f.add("explanation agrees with the answer", c, "%s", msg)
	}
	return a
}

// oracleDiffers compares an answer with the oracle's: the decision and
// every context key the oracle gives.
func oracleDiffers(o *orgdoc.Org, req orggen.Request, got string) string {
	want := decide(o, req)
	p := parse(got)
	same := p.Decision == want.Decision
	for k, v := range want.Context {
		same = same && p.Context[k] == v
	}
	if same {
		return ""
	}
	wb, _ := json.Marshal(map[string]any{"decision": want.Decision, "context": want.Context})
	return fmt.Sprintf("the oracle (DESIGN.md §2) answers %s, the PDP %s", wb, got)
}

// inactiveAllowed: rule 1, a disabled, invited or unknown user is denied
// everything.
func inactiveAllowed(o *orgdoc.Org, req orggen.Request, got string) string {
	s := obj(req, "subject")
	if str(s, "type") != "user" || !parse(got).Decision {
		return ""
	}
	status := "unknown"
	for _, u := range o.Users {
		if u.ID == str(s, "id") {
			status = u.Status
		}
	}
	if status == orgdoc.StatusActive {
		return ""
	}
	return fmt.Sprintf("a %s user is allowed: %s", status, got)
}

// checkBatches asks every case again in batches of the central PDP and of
// the edge (/access/v1/evaluations) and compares each answer with the
// single one (answers[i], asked of the same server).
func (w *world) checkBatches(cases []rcase, answers []pdptest.Answers, f *failures) int {
	c := &http.Client{Timeout: 60 * time.Second}
	n := 0
	for start := 0; start < len(cases); start += 25 {
		chunk := cases[start:min(start+25, len(cases))]
		var evals []json.RawMessage
		for _, cs := range chunk {
			evals = append(evals, orggen.JSON(cs.req))
		}
		for k, base := range []string{w.trio.Central, w.trio.Edge} {
			code, raw, err := pdptest.Post(c, base+"/access/v1/evaluations", map[string]any{"evaluations": evals})
			var out struct{ Evaluations []json.RawMessage }
			if err == nil && code == http.StatusOK {
				err = json.Unmarshal(raw, &out)
			}
			if err != nil || code != http.StatusOK || len(out.Evaluations) != len(chunk) {
				f.add("batch vs single", chunk[0], "%s batch: %d %s (%v)", base, code, raw, err)
				continue
			}
			for i, cs := range chunk {
				want := answers[start+i].Central
				if k == 1 {
					want = answers[start+i].Edge
				}
				got, err := pdptest.DecisionJSON(out.Evaluations[i])
				if err != nil || got != want {
					f.add("batch vs single", cs, "%s batch item %d: %s, single %s", base, i, got, want)
				}
				n++
			}
		}
	}
	return n
}

// explanationContradicts asks the request again with explain flipped: the
// answer must be the same but for context.reasons; with explain on there
// are reasons, and they name what the answer says (the build served, the
// level of an automation-flow answer and its verdict).
func explanationContradicts(svc *pdp.Service, req orggen.Request, got string) string {
	flipped := withExplain(req, !explained(req))
	other, err := evaluate(svc, flipped)
	if err != nil {
		return err.Error()
	}
	plain, full := got, other
	if explained(req) {
		plain, full = other, got
	}
	p, e := parse(plain), parse(full)
	reasons, _ := e.Context["reasons"].([]any)
	delete(e.Context, "reasons")
	if len(e.Context) == 0 {
		e.Context = nil
	}
	if len(p.Context) == 0 {
		p.Context = nil
	}
	pj, _ := json.Marshal(p)
	ej, _ := json.Marshal(e)
	switch {
	case string(pj) != string(ej):
		return fmt.Sprintf("with explain %s, without %s", full, plain)
	case len(reasons) == 0:
		return fmt.Sprintf("explained answer without reasons: %s", full)
	}
	var msgs []string
	for _, r := range reasons {
		m, _ := r.(map[string]any)
		msgs = append(msgs, str(m, "message"))
	}
	all := strings.Join(msgs, "\n")
	if b := str(p.Context, "build"); b != "" && !strings.Contains(all, "serves build "+b) {
		return fmt.Sprintf("the answer names build %s, no reason says it is served: %s", b, full)
	}
	if lvl := str(p.Context, "level"); lvl == "flow" || lvl == "app-wide" {
		v := "grant"
		if !p.Decision {
			v = "deny"
		}
		if !strings.Contains(all, lvl+" entry for ") || !strings.Contains(all, ": "+v) {
			return fmt.Sprintf("a %s answer at level %s without a %s entry among the reasons: %s", v, lvl, v, full)
		}
	}
	if lvl := str(p.Context, "level"); lvl == "default" && !strings.Contains(all, "allowed by default") {
		return fmt.Sprintf("a default flow answer whose reasons do not say so: %s", full)
	}
	return ""
}

func explained(req orggen.Request) bool { return obj(req, "context")["explain"] == true }

// withExplain copies req with context.explain set to on (or removed).
func withExplain(req orggen.Request, on bool) orggen.Request {
	var out orggen.Request
	_ = json.Unmarshal(orggen.JSON(req), &out)
	ctx := obj(out, "context")
	if ctx == nil {
		ctx = map[string]any{}
		out["context"] = ctx
	}
	if on {
		ctx["explain"] = true
	} else {
		delete(ctx, "explain")
	}
	return out
}

// parallel runs fn(0..n-1) on a few goroutines.
func parallel(n int, fn func(i int)) {
	work := make(chan int)
	var wg sync.WaitGroup
	for range max(runtime.GOMAXPROCS(0), 2) {
		wg.Go(func() {
			for i := range work {
				fn(i)
			}
		})
	}
	for i := range n {
		work <- i
	}
	close(work)
	wg.Wait()
}

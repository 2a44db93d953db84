package random

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	opabundle "github.com/open-policy-agent/opa/v1/bundle"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/verdict-pdp/verdict/internal/bundle"
	"github.com/verdict-pdp/verdict/internal/engine"
	"github.com/verdict-pdp/verdict/internal/facts"
	"github.com/verdict-pdp/verdict/internal/orgdoc"
	"github.com/verdict-pdp/verdict/internal/pdp"
	"github.com/verdict-pdp/verdict/internal/store"
	"github.com/verdict-pdp/verdict/internal/testutil/orggen"
	"github.com/verdict-pdp/verdict/internal/testutil/pdptest"
	"github.com/verdict-pdp/verdict/policies"
)

// A shrinker makes a failing case small: it deletes parts of the org
// document (users, groups, projects, builds, overrides, shares, entries,
// any list element or object member) one at a time, keeping a deletion
// when the document is still valid and the property still fails, until no
// deletion keeps it failing. Properties are re-checked in-process: the
// differential one with the subject's facts read from the real Redis
// (store), the whole org in memory, and stock OPA's own evaluator (OPA's
// rego package) on the org's bundle.
type shrinker struct {
	t    testing.TB
	eng  *engine.Engine
	st   *store.Store
	mods map[string]string
	// extra are more properties by name (the shrinker's own test).
	extra map[string]func(o *orgdoc.Org, req orggen.Request) string
}

func newShrinker(t testing.TB, w *world) *shrinker {
	mods, err := policies.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	return &shrinker{t: t, eng: w.eng, st: w.st, mods: mods}
}

// check is the in-process check of a property: "" when it holds.
func (s *shrinker) check(prop string, o *orgdoc.Org, req orggen.Request) string {
	if x, ok := s.extra[prop]; ok {
		return x(o, req)
	}
	if _, _, filter := filterOf(req); filter != "" {
		return s.checkFilter(prop, o, req)
	}
	doc, err := evaluate(docPDP(s.eng, o), req)
	if err != nil {
		return err.Error()
	}
	if m, ok := metamorphic[prop]; ok {
		return m(s.eng, o, req, doc)
	}
	switch prop {
	case "oracle":
		return oracleDiffers(o, req, doc)
	case "rule 1: inactive or unknown users are denied":
		return inactiveAllowed(o, req, doc)
	case "explanation agrees with the answer":
		return explanationContradicts(docPDP(s.eng, o), req, doc)
	case "deny without a reason":
		if p := parse(doc); !p.Decision && str(p.Context, "reason") == "" {
			return "a deny without context.reason: " + doc
		}
		return ""
	}
	// differential, in-process vs HTTP, batch vs single: the three ways of
	// holding the facts.
	if _, err := s.st.PutOrg(context.Background(), o, -1, store.Actor{Subject: "shrinker"}); err != nil {
		return err.Error()
	}
	svc, err := s.redisPDP()
	if err != nil {
		return err.Error()
	}
	facts, err := evaluate(svc, req)
	if err != nil {
		return err.Error()
	}
	opa, err := s.stockOPA(o, req)
	if err != nil {
		return err.Error()
	}
	if facts != doc || opa != doc {
		return fmt.Sprintf("subject facts from Redis %s, whole org %s, OPA on the bundle %s", facts, doc, opa)
	}
	return ""
}

// checkFilter is check for a business filter case: the oracle, or the
// subject's facts from Redis against the whole org in memory.
func (s *shrinker) checkFilter(prop string, o *orgdoc.Org, req orggen.Request) string {
	doc := filterInProcess(docPDP(s.eng, o), req)
	if prop == "filter oracle" {
		return filterOracleDiffers(o, req, doc)
	}
	if _, err := s.st.PutOrg(context.Background(), o, -1, store.Actor{Subject: "shrinker"}); err != nil {
		return err.Error()
	}
	svc, err := s.redisPDP()
	if err != nil {
		return err.Error()
	}
	if facts := filterInProcess(svc, req); facts != doc {
		return fmt.Sprintf("subject facts from Redis %s, whole org %s", facts, doc)
	}
	return ""
}

// redisPDP decides with facts read from Redis by the decision path's
// reader, a fresh one each time: it keeps build manifests by id, and a
// shrunk build keeps its id.
func (s *shrinker) redisPDP() (*pdp.Service, error) {
	r, err := facts.NewReader(s.st.Client(), facts.ReaderConfig{Prefix: s.st.OrgPrefix})
	if err != nil {
		return nil, err
	}
	return pdp.New(pdp.Config{Users: s.st}, s.eng, r)
}

// stockOPA evaluates req with OPA's rego package on o's bundle, at the
// path stock OPA answers on.
func (s *shrinker) stockOPA(o *orgdoc.Org, req orggen.Request) (string, error) {
	built, err := bundle.Build(context.Background(), bundle.Spec{Org: o, Policies: bundle.Policies{Modules: s.mods}})
	if err != nil {
		return "", err
	}
	b, err := opabundle.NewReader(bytes.NewReader(built.Bytes)).Read()
	if err != nil {
		return "", err
	}
	var input any
	_ = json.Unmarshal(orggen.JSON(req), &input)
	rs, err := rego.New(rego.Query("data.verdict.orgs["+strconv.Quote(o.Org)+"].main.decision"),
		rego.ParsedBundle("org", &b), rego.Input(input)).Eval(context.Background())
	if err != nil {
		return "", err
	}
	if len(rs) != 1 || len(rs[0].Expressions) != 1 {
		return "", fmt.Errorf("no decision: %v", rs)
	}
	raw, _ := json.Marshal(rs[0].Expressions[0].Value)
	return pdptest.DecisionJSON(raw)
}

// shrink returns the minimal failing org and request of a failure, as text.
func (s *shrinker) shrink(prop string, c rcase) string {
	first := s.check(prop, c.org, c.req)
	if first == "" {
		return fmt.Sprintf("  (not reproduced in-process: not shrunk)\n  org: %s", mustJSON(c.org))
	}
	doc := generic(c.org)
	req := c.req
	if explained(req) && s.check(prop, c.org, withExplain(req, false)) != "" {
		req = withExplain(req, false)
	}
	deadline := time.Now().Add(2 * time.Minute)
	tries, last := 0, first
	for changed := true; changed && time.Now().Before(deadline); {
		changed = false
		for i := 0; time.Now().Before(deadline); i++ {
			paths := deletable(doc)
			if i >= len(paths) {
				break
			}
			cand := without(doc, paths[i])
			raw, _ := json.Marshal(cand)
			o, err := orgdoc.DecodeOrg(raw)
			if err != nil {
				continue
			}
			tries++
			if msg := s.check(prop, o, req); msg != "" {
				doc, last, changed = cand, msg, true
				i-- // the same position now holds the next candidate
			}
		}
	}
	out, _ := json.Marshal(doc)
	return fmt.Sprintf("  shrunk (%d tries): %s\n  minimal org: %s\n  minimal request: %s", tries, last, out, orggen.JSON(req))
}

func mustJSON(v any) string { b, _ := json.Marshal(v); return string(b) }

func generic(o *orgdoc.Org) any {
	var v any
	_ = json.Unmarshal([]byte(mustJSON(o)), &v)
	return v
}

// deletable lists the paths of every list element and object member of v
// (but the org id), shallow ones first: whole users, projects and builds
// go before their parts.
func deletable(v any) [][]any {
	var out [][]any
	level := [][]any{{}}
	for len(level) > 0 {
		var next [][]any
		for _, p := range level {
			switch x := at(v, p).(type) {
			case map[string]any:
				for _, k := range sortedKeys(x) {
					if len(p) == 0 && k == "org" {
						continue
					}
					q := append(append([]any{}, p...), k)
					out = append(out, q)
					next = append(next, q)
				}
			case []any:
				for i := range x {
					q := append(append([]any{}, p...), i)
					out = append(out, q)
					next = append(next, q)
				}
			}
		}
		level = next
	}
	return out
}

func at(v any, p []any) any {
	for _, k := range p {
		switch x := v.(type) {
		case map[string]any:
			v = x[k.(string)]
		case []any:
			v = x[k.(int)]
		}
	}
	return v
}

// without copies v without the element or member at p.
func without(v any, p []any) any {
	if len(p) == 0 {
		return v
	}
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = e
		}
		if len(p) == 1 {
			delete(out, p[0].(string))
		} else {
			out[p[0].(string)] = without(x[p[0].(string)], p[1:])
		}
		return out
	case []any:
		i := p[0].(int)
		if len(p) == 1 {
			out := make([]any, 0, len(x)-1)
			return append(append(out, x[:i]...), x[i+1:]...)
		}
		out := append([]any{}, x...)
		out[i] = without(x[i], p[1:])
		return out
	}
	return v
}

func sortedKeys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

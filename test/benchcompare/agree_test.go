package main

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/storage/inmem"

	"github.com/verdict-pdp/verdict/internal/assemble"
	"github.com/verdict-pdp/verdict/internal/cmd/gen"
	"github.com/verdict-pdp/verdict/internal/orgdoc"
	"github.com/verdict-pdp/verdict/policies"
)

// The hand-written policy decides every request of every mix as Verdict's
// policies do, on the same data (a generated org, whole, as in the bundle):
// the same boolean, request by request. Two projects only, so that the
// designer bypass (u7 and u57 on p0) comes up often.
func TestHandwrittenAgreesWithVerdict(t *testing.T) {
	cfg := gen.Config{Users: 100, Seed: 4, Projects: 2}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	var doc bytes.Buffer
	if err := gen.Write(&doc, cfg); err != nil {
		t.Fatal(err)
	}
	o, err := orgdoc.DecodeOrg(doc.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	// Through JSON: the store holds what a bundle's data.json holds.
	b, _ := json.Marshal(map[string]any{"verdict_data": map[string]any{"orgs": map[string]any{cfg.Org: assemble.NewIndex(o).Document()}}})
	var data map[string]any
	if err := json.Unmarshal(b, &data); err != nil {
		t.Fatal(err)
	}
	store := inmem.NewFromObject(data)
	builtin, err := policies.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	hand, err := handModules()
	if err != nil || len(hand) == 0 {
		t.Fatalf("hand-written modules: %v (%d)", err, len(hand))
	}
	ctx := context.Background()
	prepare := func(query string, mods map[string]string) rego.PreparedEvalQuery {
		opts := []func(*rego.Rego){rego.Query(query), rego.Store(store), rego.SetRegoVersion(ast.RegoV1)}
		for name, src := range mods {
			opts = append(opts, rego.Module(name, src))
		}
		pq, err := rego.New(opts...).PrepareForEval(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return pq
	}
	verdictQ := prepare("data.verdict.main.decision.decision", builtin)
	handQ := prepare("data.handwritten.decision.decision", hand)
	// The same without the designer bypass: where it denies what handQ
	// allows, the bypass decided.
	noBypassQ := prepare("data.handwritten.decision.decision with data.handwritten.bypass as false", hand)
	decide := func(pq rego.PreparedEvalQuery, input map[string]any) bool {
		rs, err := pq.Eval(ctx, rego.EvalInput(input))
		if err != nil || len(rs) != 1 {
			t.Fatalf("%v: %v (%d results)", input, err, len(rs))
		}
		d, ok := rs[0].Expressions[0].Value.(bool)
		if !ok {
			t.Fatalf("%v: decision %v is not a boolean", input, rs[0].Expressions[0].Value)
		}
		return d
	}
	// Per kind of resource: how many allowed and denied (both must occur).
	outcomes := map[string][2]int{}
	bypass := 0
	for _, mix := range gen.Mixes {
		c := cfg
		c.Mix, c.Requests = mix, 1000
		var reqs bytes.Buffer
		if err := gen.WriteRequests(&reqs, c); err != nil {
			t.Fatal(err)
		}
		disagree := 0
		for i, line := range bytes.Split(bytes.TrimSpace(reqs.Bytes()), []byte("\n")) {
			var input map[string]any
			if err := json.Unmarshal(line, &input); err != nil {
				t.Fatal(err)
			}
			v, h := decide(verdictQ, input), decide(handQ, input)
			if v != h {
				if disagree++; disagree <= 5 {
					t.Errorf("%s mix, request %d: Verdict %v, hand-written %v: %s", mix, i+1, v, h, line)
				}
			}
			res := input["resource"].(map[string]any)
			kind := res["type"].(string)
			o := outcomes[kind]
			if v {
				o[0]++
			} else {
				o[1]++
			}
			outcomes[kind] = o
			if user := input["subject"].(map[string]any)["id"]; (user == "u7" || user == "u57") && h && !decide(noBypassQ, input) {
				bypass++
			}
		}
		if disagree > 0 {
			t.Errorf("%s mix: %d of %d decisions disagree", mix, disagree, c.Requests)
		}
	}
	for _, kind := range []string{"solution", "ui_flow", "component", "process", "swimlane", "flow"} {
		if o := outcomes[kind]; o[0] == 0 || o[1] == 0 {
			t.Errorf("%s: %d allowed, %d denied: the mixes must exercise both", kind, o[0], o[1])
		}
	}
	if bypass == 0 {
		t.Error("the designer bypass (u7, u57 on p0) decided no request: it went untested")
	}
	t.Logf("outcomes (allowed, denied) by kind: %v; %d allowed by the designer bypass alone", outcomes, bypass)
}

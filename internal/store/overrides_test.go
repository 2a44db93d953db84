package store_test

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"testing"

	"github.com/open-policy-agent/opa/ast"
	"github.com/verdict-pdp/verdict/internal/facts"
	"github.com/verdict-pdp/verdict/internal/orgdoc"
	"github.com/verdict-pdp/verdict/internal/store"
	"github.com/verdict-pdp/verdict/internal/testutil/orgfix"
)

// dupOrg has groups A and B and an active policy listing A twice (priorities
// 10 and 30) and B once (20).
func dupOrg(t *testing.T) *orgdoc.Org { return orgfix.DupOverrides(t) }

// The facts of a member of a group with several overrides hold the one with
// the lowest priority number; the active policy still lists every one, in
// the imported order, and exports exactly as imported (streamed or not).
func TestSeveralOverridesOfOneGroup(t *testing.T) {
	st := newStore(t)
	ctx := context.Background()
	for _, streamed := range []bool{false, true} {
		o := dupOrg(t)
		if streamed {
			raw, _ := json.Marshal(o)
			if _, err := importFile(st, raw, -1, nil); err != nil {
				t.Fatal(err)
			}
		} else if _, err := st.PutOrg(ctx, o, -1, admin); err != nil {
			t.Fatal(err)
		}
		got, _, err := st.GetOrg(ctx, "dup")
		if err != nil {
			t.Fatal(err)
		}
		if a, b := canonical(t, dupOrg(t)), canonical(t, got); a != b {
			t.Errorf("streamed %v: export differs from import\nimported: %s\nexported: %s", streamed, a, b)
		}
		inForce := factsOverrides(t, st, "dup", "u1", "p", "prod")
		if want := map[string]string{"A": "10:b1", "B": "20:b1"}; !maps.Equal(inForce, want) {
			t.Errorf("streamed %v: facts hold overrides %v, want %v (A's lowest priority, 10)", streamed, inForce, want)
		}
	}
}

// factsOverrides are the group overrides the decision path reads for a
// subject (internal/facts, one Lua call): group -> "priority:build".
func factsOverrides(t *testing.T, st *store.Store, org, user, project, env string) map[string]string {
	t.Helper()
	r, err := facts.NewReader(st.Client(), facts.ReaderConfig{Prefix: st.OrgPrefix})
	if err != nil {
		t.Fatal(err)
	}
	f, err := r.Facts(context.Background(), facts.Scope{Org: org, Subject: user, Project: project, Environment: env})
	if err != nil {
		t.Fatal(err)
	}
	v, err := ast.JSON(f.Value)
	if err != nil {
		t.Fatal(err)
	}
	get := func(x any, k string) any { m, _ := x.(map[string]any); return m[k] }
	ap := get(get(get(get(get(get(v, org), "projects"), project), "environments"), env), "active_policy")
	out := map[string]string{}
	for g, o := range get(ap, "group_overrides").(map[string]any) {
		out[g] = fmt.Sprintf("%v:%v", get(o, "priority"), get(get(o, "policy"), "build"))
	}
	return out
}

package domain_test

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"testing"

	"github.com/open-policy-agent/opa/ast"
	"github.com/verdict-pdp/verdict/internal/admin/domain"
	"github.com/verdict-pdp/verdict/internal/facts"
	"github.com/verdict-pdp/verdict/internal/orgdoc"
	"github.com/verdict-pdp/verdict/internal/store"
	"github.com/verdict-pdp/verdict/internal/testutil/orgfix"
	"github.com/verdict-pdp/verdict/internal/testutil/redistest"
	"github.com/verdict-pdp/verdict/internal/verr"
)

// dupOrg has groups A and B and an active policy listing A twice (priorities
// 10 and 30) and B once (20).
func dupOrg(t *testing.T) *orgdoc.Org { return orgfix.DupOverrides(t) }

func overridesOf(t *testing.T, d *domain.Admin) []string {
	t.Helper()
	ap, err := d.GetActivePolicy(context.Background(), "dup", "p", "prod")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, o := range ap.Overrides {
		out = append(out, o.Group+":"+o.Policy.Build)
	}
	return out
}

// Admin writes treat a group's overrides as one: a PUT replaces them all,
// a DELETE removes them all, a rename or delete of the group carries them
// all, and a priority still in use by a shadowed override is refused.
func TestAdminOverridesOfOneGroup(t *testing.T) {
	rdb := redistest.Shared(t).Client(t)
	if err := rdb.FlushAll(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
	st, err := store.New(rdb, store.Config{})
	if err != nil {
		t.Fatal(err)
	}
	d := domain.New(st)
	admin := store.Actor{Subject: "test-admin"}
	ctx := context.Background()
	reset := func() {
		if _, err := st.PutOrg(ctx, dupOrg(t), -1, admin); err != nil {
			t.Fatal(err)
		}
	}
	put := func(group string, p int, build string) error {
		_, _, err := d.PutOverride(ctx, "dup", "p", "prod", orgdoc.Override{Type: orgdoc.OverrideGroup, Group: group,
			Priority: &p, Policy: orgdoc.Policy{Build: build}}, "", admin)
		return err
	}

	reset()
	if err := put("B", 30, "b2"); verr.CodeOf(err) != verr.Conflict {
		t.Errorf("B at priority 30 (A's shadowed override): %v, want a conflict", err)
	}
	if err := put("A", 30, "b2"); err != nil {
		t.Fatalf("A at its own priority 30: %v", err)
	}
	// A keeps the place of the override that was in force (priority 10).
	if got, want := overridesOf(t, d), []string{"B:b1", "A:b2"}; !slices.Equal(got, want) {
		t.Errorf("after PUT A: %v, want %v", got, want)
	}

	reset()
	if _, _, err := d.DeleteOverride(ctx, "dup", "p", "prod", orgdoc.OverrideGroup, "A", "", admin); err != nil {
		t.Fatal(err)
	}
	if got, want := overridesOf(t, d), []string{"B:b1"}; !slices.Equal(got, want) {
		t.Errorf("after DELETE A: %v, want %v", got, want)
	}

	reset()
	name := "C"
	if _, _, err := d.UpdateGroup(ctx, "dup", "A", domain.GroupPatch{Name: &name}, "", admin); err != nil {
		t.Fatal(err)
	}
	if got, want := overridesOf(t, d), []string{"C:b2", "B:b1", "C:b1"}; !slices.Equal(got, want) {
		t.Errorf("after renaming A to C: %v, want %v", got, want)
	}
	if got, want := factsOverrides(t, st, "dup", "u1", "p", "prod"), map[string]string{"C": "10:b1", "B": "20:b1"}; !maps.Equal(got, want) {
		t.Errorf("after the rename the facts hold %v, want %v", got, want)
	}

	reset()
	if _, err := d.DeleteGroup(ctx, "dup", "A", "", admin); err != nil {
		t.Fatal(err)
	}
	if got, want := overridesOf(t, d), []string{"B:b1"}; !slices.Equal(got, want) {
		t.Errorf("after deleting group A: %v, want %v", got, want)
	}
	if err := put("B", 30, "b2"); err != nil {
		t.Errorf("priority 30 is free once group A is gone: %v", err)
	}

	reset()
	if _, err := d.DeleteActivePolicy(ctx, "dup", "p", "prod", "", admin); err != nil {
		t.Fatal(err)
	}
	got, _, err := st.GetOrg(ctx, "dup")
	if err != nil {
		t.Fatal(err)
	}
	if ap := got.Projects[0].Environments["prod"].ActivePolicy; ap != nil {
		t.Errorf("after deleting the active policy: %+v", ap)
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

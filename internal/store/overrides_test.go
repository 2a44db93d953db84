package store_test

import (
	"context"
	"encoding/json"
	"slices"
	"testing"

	"github.com/verdict-pdp/verdict/internal/orgdoc"
)

// dupOrg has groups A and B and an active policy listing A twice (priorities
// 10 and 30) and B once (20).
func dupOrg(t *testing.T) *orgdoc.Org {
	t.Helper()
	raw := `{"org":"dup","environments":["prod"],"workspaces":[{"id":"w"}],
	"users":[{"id":"u1","username":"one","status":"active"}],
	"roles":[{"name":"R"}],
	"groups":[{"name":"A","members":["u1"]},{"name":"B","members":["u1"]}],
	"projects":[{"id":"p","workspace":"w","builds":[
		{"id":"b1","branch":"main","created":"2026-01-01T00:00:00Z","roles":["R"],"ui_flows":[],"processes":[]},
		{"id":"b2","branch":"main","created":"2026-02-01T00:00:00Z","roles":["R"],"ui_flows":[],"processes":[]}],
	 "environments":{"prod":{"active_policy":{"default":{"build":"b1"},"overrides":[
		{"type":"group","group":"A","priority":30,"policy":{"build":"b2"}},
		{"type":"group","group":"B","priority":20,"policy":{"build":"b1"}},
		{"type":"group","group":"A","priority":10,"policy":{"build":"b1"}}]},"shares":[]}}}]}`
	o, err := orgdoc.DecodeOrg([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	return o
}

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
		sf, err := st.ReadSubject(ctx, "dup", "u1", "p", "prod", "")
		if err != nil {
			t.Fatal(err)
		}
		var facts []string
		for _, ov := range sf.Org.Projects[0].Environments["prod"].ActivePolicy.Overrides {
			facts = append(facts, ov.Group+":"+ov.Policy.Build)
		}
		slices.Sort(facts)
		if want := []string{"A:b1", "B:b1"}; !slices.Equal(facts, want) {
			t.Errorf("streamed %v: facts hold overrides %v, want %v (A's lowest priority, 10)", streamed, facts, want)
		}
	}
}

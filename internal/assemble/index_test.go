package assemble

import (
	"testing"

	"github.com/verdict-pdp/verdict/internal/orgdoc"
)

func prio(n int) *int { return &n }

func groupOvr(g string, p int, build string) orgdoc.Override {
	return orgdoc.Override{Type: orgdoc.OverrideGroup, Group: g, Priority: prio(p), Policy: orgdoc.Policy{Build: build}}
}

// Several overrides of one group: the index keeps the lowest priority
// number (rule 3), wherever it is listed.
func TestEnvIndexKeepsLowestPriorityPerGroup(t *testing.T) {
	cases := []struct {
		name string
		ovs  []orgdoc.Override
		want map[string][2]any // group -> priority, build
	}{
		{"lower first", []orgdoc.Override{groupOvr("G", 1, "b1"), groupOvr("G", 5, "b2")}, map[string][2]any{"G": {1, "b1"}}},
		{"lower last", []orgdoc.Override{groupOvr("G", 5, "b2"), groupOvr("G", 1, "b1")}, map[string][2]any{"G": {1, "b1"}}},
		{"A B A", []orgdoc.Override{groupOvr("A", 1, "a1"), groupOvr("B", 2, "b"), groupOvr("A", 3, "a3")},
			map[string][2]any{"A": {1, "a1"}, "B": {2, "b"}}},
		{"A B A, lower last", []orgdoc.Override{groupOvr("A", 3, "a3"), groupOvr("B", 2, "b"), groupOvr("A", -4, "a1")},
			map[string][2]any{"A": {-4, "a1"}, "B": {2, "b"}}},
		{"three of one group", []orgdoc.Override{groupOvr("G", 9, "x"), groupOvr("G", 2, "y"), groupOvr("G", 4, "z")},
			map[string][2]any{"G": {2, "y"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ei := NewEnvIndex(&orgdoc.Environment{ActivePolicy: &orgdoc.ActivePolicy{
				Default: orgdoc.Policy{Build: "b0"}, Overrides: tc.ovs}})
			if len(ei.GroupOverrides) != len(tc.want) {
				t.Fatalf("group overrides %v, want %v", ei.GroupOverrides, tc.want)
			}
			for g, w := range tc.want {
				o, _ := ei.GroupOverrides[g].(map[string]any)
				pol, _ := o["policy"].(map[string]any)
				if o["priority"] != w[0] || pol["build"] != w[1] {
					t.Errorf("group %s: %v, want priority %v build %v", g, o, w[0], w[1])
				}
			}
		})
	}
}

func TestBuildValueCreatedKey(t *testing.T) {
	cases := []struct {
		created string
		key     any // nil: no created_key
	}{
		{"2026-01-10T09:00:00Z", "2026-01-10T09:00:00.000000000Z"},
		{"2026-01-10T10:00:00+01:00", "2026-01-10T09:00:00.000000000Z"},
		{"0001-01-01T00:00:00Z", "0001-01-01T00:00:00.000000000Z"},
		{"2300-01-01T00:00:00.5+02:00", "2299-12-31T22:00:00.500000000Z"},
		{"0000-01-01T00:00:00+01:00", nil}, // UTC year -1: refused by validation
		{"yesterday", nil},
	}
	for _, tc := range cases {
		v := BuildValue(orgdoc.Build{ID: "b", Branch: "main", Created: tc.created})
		if got := v["created_key"]; got != tc.key {
			t.Errorf("created %q: created_key %v, want %v", tc.created, got, tc.key)
		}
		if v["created"] != tc.created {
			t.Errorf("created %q: created %v", tc.created, v["created"])
		}
	}
}

// A build's role lists are arrays in the indexed shape even when the
// document leaves them out (valid) or they are stored as null: the policies
// concat them into explanations, and concat fails on null.
func TestBuildValueListsNeverNull(t *testing.T) {
	v := BuildValue(orgdoc.Build{ID: "b", Branch: "main", Created: "2026-01-01T00:00:00Z",
		UIFlows: []orgdoc.UIFlow{{ID: "f"}}, Processes: []orgdoc.Process{{ID: "p"}}})
	isList := func(x any) bool { _, ok := x.([]any); return ok }
	flow := v["ui_flows"].(map[string]any)["f"].(map[string]any)
	proc := v["processes"].(map[string]any)["p"].(map[string]any)
	if !isList(v["roles"]) || !isList(flow["roles"]) || !isList(proc["roles"]) {
		t.Errorf("roles not arrays: build %#v, flow %#v, process %#v", v["roles"], flow["roles"], proc["roles"])
	}
	if _, ok := proc["swimlanes"].(map[string]any); !ok {
		t.Errorf("swimlanes not an object: %#v", proc["swimlanes"])
	}
}

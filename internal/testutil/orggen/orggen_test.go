package orggen

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/verdict-pdp/verdict/internal/authzen"
	"github.com/verdict-pdp/verdict/internal/orgdoc"
)

// Every generated document passes orgdoc's validation, through the strict
// decoder (the JSON form is what imports and bundles read).
func TestOrgsAreValid(t *testing.T) {
	n := 2000
	if testing.Short() {
		n = 200
	}
	for seed := range uint64(n) {
		o := Org(seed)
		raw, err := json.Marshal(o)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := orgdoc.DecodeOrg(raw); err != nil {
			t.Fatalf("seed %d: %v\n%s", seed, err, raw)
		}
		if k := len(o.Users); k < 5 || k > 15 {
			t.Fatalf("seed %d: %d users", seed, k)
		}
		for i, r := range Requests(o, seed, 20) {
			if _, err := authzen.ParseRequest(JSON(r)); err != nil {
				t.Fatalf("seed %d request %d: %v", seed, i, err)
			}
		}
	}
}

func TestDeterministic(t *testing.T) {
	if !reflect.DeepEqual(Org(7), Org(7)) || !reflect.DeepEqual(Requests(Org(7), 7, 50), Requests(Org(7), 7, 50)) {
		t.Fatal("the same seed gave different orgs or requests")
	}
	if reflect.DeepEqual(Org(7), Org(8)) {
		t.Fatal("seeds 7 and 8 gave the same org")
	}
}

// Over a few hundred seeds, every field and interaction the property tests
// rely on occurs: a generator that stopped producing one would make those
// tests vacuous.
func TestCoverage(t *testing.T) {
	seen := map[string]bool{}
	mark := func(k string, ok bool) {
		if ok {
			seen[k] = true
		}
	}
	for seed := range uint64(300) {
		o := Org(seed)
		for _, u := range o.Users {
			mark("status "+u.Status, true)
			mark("designer_user", u.DesignerUser)
			mark("service_account", u.ServiceAccount)
			mark("email", u.Email != "")
			mark("last_seen", u.LastSeen != "")
			mark("user attributes", len(u.Attributes) > 0)
		}
		for _, g := range o.Groups {
			mark("group attributes", len(g.Attributes) > 0)
			mark("group members", len(g.Members) > 0)
		}
		mark("legacy grants", len(o.LegacyGrants) > 0)
		mark("designer groups", len(o.DesignerGroups) > 0)
		mark("business filters", len(o.BusinessFilters) > 0)
		for _, d := range o.DesignerRoles {
			mark("designer role "+d.Role, true)
			mark("designer role to a designer group", d.Subject.Group != "" && !strings.HasPrefix(d.Subject.Group, orgdoc.SystemGroupPrefix))
			mark("designer role to all_users_", strings.HasPrefix(d.Subject.Group, orgdoc.SystemGroupPrefix))
		}
		for _, p := range o.Projects {
			branches := map[string]int{}
			for _, b := range p.Builds {
				branches[b.Branch]++
				mark("build before 1677", b.Created < "1677")
				mark("build after 2262", b.Created > "2263")
				mark("build role outside the org", slices.Contains(b.Roles, goneRole))
				for _, f := range b.UIFlows {
					for _, c := range f.Components {
						mark("component hidden_for", len(c.HiddenFor) > 0)
						mark("component disabled_for", len(c.DisabledFor) > 0)
					}
				}
				for _, pr := range b.Processes {
					mark("swimlanes", len(pr.Swimlanes) > 0)
				}
			}
			for _, n := range branches {
				mark("several builds on a branch", n > 1)
			}
			if fp := p.FlowPermissions; fp != nil {
				mark("app-wide flow entries", fp.Defaults != nil)
				for _, e := range fp.Flows {
					for _, v := range e.Users {
						mark("flow user "+v, true)
					}
					for r, v := range e.Roles {
						mark("flow role "+v, true)
						mark("flow AuthenticatedUser", r == orgdoc.RoleAuthenticatedUser)
						mark("flow NonAuthenticatedUser", r == orgdoc.RoleNonAuthenticatedUser)
					}
				}
			}
			for _, e := range p.Environments {
				mark("environment without active policy", e.ActivePolicy == nil)
				mark("user share", slices.ContainsFunc(e.Shares, func(s orgdoc.Share) bool { return s.Subject.User != "" }))
				mark("group share", slices.ContainsFunc(e.Shares, func(s orgdoc.Share) bool { return s.Subject.Group != "" }))
				if e.ActivePolicy == nil {
					continue
				}
				mark("default latest_on_branch", e.ActivePolicy.Default.LatestOnBranch != "")
				groups := map[string]int{}
				for _, ov := range e.ActivePolicy.Overrides {
					mark("override "+ov.Type, true)
					if ov.Type == orgdoc.OverrideGroup {
						groups[ov.Group]++
					}
				}
				for _, n := range groups {
					mark("several overrides of one group", n > 1)
				}
			}
		}
		for _, r := range Requests(o, seed, 40) {
			res := r["resource"].(map[string]any)
			mark("request "+res["type"].(string)+" "+r["action"].(map[string]any)["name"].(string), true)
			mark("request anonymous", r["subject"].(map[string]any)["type"] == "anonymous")
			mark("request unknown user", r["subject"].(map[string]any)["id"] == UnknownUser)
			mark("request explain", r["context"].(map[string]any)["explain"] == true)
		}
	}
	want := []string{"status active", "status invited", "status disabled", "designer_user", "service_account", "email",
		"last_seen", "user attributes", "group attributes", "group members", "legacy grants", "designer groups",
		"business filters", "designer role to a designer group", "designer role to all_users_", "build before 1677",
		"build after 2262", "build role outside the org", "component hidden_for", "component disabled_for", "swimlanes",
		"several builds on a branch", "app-wide flow entries", "flow user grant", "flow user deny", "flow role grant",
		"flow role deny", "flow AuthenticatedUser", "flow NonAuthenticatedUser", "environment without active policy",
		"user share", "group share", "default latest_on_branch", "override username", "override group", "override role",
		"several overrides of one group", "request anonymous", "request unknown user", "request explain"}
	for _, r := range []string{"org_owner", "org_admin", "workspace_admin", "workspace_user", "theme_editor",
		"workspace_runtime_editor", "project_owner", "project_editor", "project_viewer"} {
		want = append(want, "designer role "+r)
	}
	for _, rt := range ResourceTypes {
		for _, a := range Actions(rt) {
			want = append(want, "request "+rt+" "+a)
		}
	}
	for _, k := range want {
		if !seen[k] {
			t.Errorf("never generated: %s", k)
		}
	}
}

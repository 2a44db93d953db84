package admin_test

import (
	"context"
	"net/http"
	"slices"
	"testing"

	"github.com/verdict-pdp/verdict/internal/admin"
	"github.com/verdict-pdp/verdict/internal/admin/domain"
	"github.com/verdict-pdp/verdict/internal/authzen"
	"github.com/verdict-pdp/verdict/internal/engine"
	"github.com/verdict-pdp/verdict/internal/facts"
	"github.com/verdict-pdp/verdict/internal/orgdoc"
	"github.com/verdict-pdp/verdict/internal/pdp"
	"github.com/verdict-pdp/verdict/internal/policyload"
	"github.com/verdict-pdp/verdict/internal/verr"
)

// decider decides through the central PDP's facts path over the harness's
// Redis (no cache: every decision reads the facts as they are).
func (h *harness) decider() *pdp.Service {
	h.t.Helper()
	set, err := policyload.Load(nil, false)
	if err != nil {
		h.t.Fatal(err)
	}
	eng, err := engine.New(context.Background(), engine.Config{Modules: set.Modules, Data: set.Data})
	if err != nil {
		h.t.Fatal(err)
	}
	r, err := facts.NewReader(h.st.Client(), facts.ReaderConfig{Prefix: h.st.OrgPrefix})
	if err != nil {
		h.t.Fatal(err)
	}
	svc, err := pdp.New(pdp.Config{DecisionCache: -1}, eng, r)
	if err != nil {
		h.t.Fatal(err)
	}
	return svc
}

// runtimeAnswers asks every runtime question about user on project in env:
// access (and the build), every UI flow, process and swimlane right of
// every build, every automation flow with permissions and one without.
func runtimeAnswers(t *testing.T, svc *pdp.Service, o *orgdoc.Org, user, project, env string) map[string]string {
	t.Helper()
	var p *orgdoc.Project
	for i := range o.Projects {
		if o.Projects[i].ID == project {
			p = &o.Projects[i]
		}
	}
	out := map[string]string{}
	ask := func(name, typ, id, action string, props map[string]any) {
		d, err := svc.Evaluate(context.Background(), &authzen.Request{
			Subject: &authzen.Entity{Type: "user", ID: user}, Action: &authzen.Action{Name: action},
			Resource: &authzen.Entity{Type: typ, ID: id, Properties: props},
			Context:  map[string]any{"org": o.Org, "environment": env}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := d.Context["build"].(string)
		out[name] = map[bool]string{true: "allow", false: "deny"}[d.Decision] + " " + b
	}
	props := map[string]any{"project": project}
	ask("access", "solution", project, "access", nil)
	for _, b := range p.Builds {
		for _, f := range b.UIFlows {
			ask("launch "+f.ID, "ui_flow", f.ID, "launch", props)
		}
		for _, pr := range b.Processes {
			ask("start "+pr.ID, "process", pr.ID, "start", props)
			for lane := range pr.Swimlanes {
				for _, r := range orgdoc.SwimlaneRights {
					ask(r+" "+pr.ID+"/"+lane, "swimlane", lane, r, map[string]any{"project": project, "process": pr.ID})
				}
			}
		}
	}
	flows := []string{"a_flow_with_no_entries"}
	if p.FlowPermissions != nil {
		for f := range p.FlowPermissions.Flows {
			flows = append(flows, f)
		}
	}
	for _, f := range flows {
		ask("run "+f, "flow", f, "run", props)
	}
	return out
}

// sharedUsers lists the users a share of env names (directly or as group
// members), sorted.
func sharedUsers(o *orgdoc.Org, project, env string) []string {
	var out []string
	for _, p := range o.Projects {
		if p.ID != project {
			continue
		}
		for _, s := range p.Environments[env].Shares {
			if s.Subject.User != "" {
				out = append(out, s.Subject.User)
			}
			for _, g := range o.Groups {
				if g.Name == s.Subject.Group {
					out = append(out, g.Members...)
				}
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func planItems(p domain.PromotionPlan) []string {
	var out []string
	for _, it := range p.Items {
		out = append(out, it.Op+" "+it.Target)
	}
	return out
}

// Promotion of acme's loans from uat to prod: the dry run shows the diff and
// changes nothing; applied, it is one audited write after which prod
// decides as uat does for every user uat shares to (it did not before).
func TestPromoteLoansUatToProd(t *testing.T) {
	h := setup(t)
	org := h.putOrg(orgDoc(t, acmeFile))
	base := "/admin/v1/orgs/" + org + "/projects/loans/promotion"
	svc := h.decider()
	o, _ := h.exported(org)
	users := sharedUsers(o, "loans", "uat")
	if !slices.Equal(users, []string{"u-alice"}) {
		t.Fatalf("uat shares to %v", users)
	}
	differed := false
	for _, u := range users {
		if !mapsEqual(runtimeAnswers(t, svc, o, u, "loans", "uat"), runtimeAnswers(t, svc, o, u, "loans", "prod")) {
			differed = true
		}
	}
	if !differed {
		t.Fatal("prod already decides as uat: the promotion would prove nothing")
	}

	rev := h.revision(org)
	var dry domain.PromotionPlan
	h.do("POST", base, map[string]any{"from": "uat", "to": "prod"}).want(http.StatusOK).decode(&dry)
	if h.authz.last() != (admin.Check{ResourceType: "project", ResourceID: "loans", Action: admin.ProjectRead}) {
		t.Fatalf("dry run checked %+v", h.authz.last())
	}
	env := "projects/loans/environments/prod"
	want := []string{
		"change " + env + "/active-policy/default",
		"kept " + env + "/active-policy/overrides/usernames/alice",
		"kept " + env + "/active-policy/overrides/groups/Beta testers",
		"kept " + env + "/active-policy/overrides/groups/Early access",
		"change " + env + "/shares/users/u-alice",
		"kept " + env + "/shares/users/u-bob",
		"kept " + env + "/shares/users/u-frank",
		"kept " + env + "/shares/users/u-carol",
		"kept " + env + "/shares/groups/Back office",
		"kept " + env + "/shares/groups/Beta testers",
	}
	if got := planItems(dry); !slices.Equal(got, want) || dry.Applied || dry.TargetBuild != "b2" || len(dry.Refused) != 0 || dry.Revision != rev {
		t.Fatalf("dry run: %q (target %s, refused %+v, revision %d)\nwant %q", got, dry.TargetBuild, dry.Refused, dry.Revision, want)
	}
	if h.revision(org) != rev {
		t.Fatal("a dry run wrote")
	}

	n := len(h.authz.checks)
	var applied domain.PromotionPlan
	h.do("POST", base+"?apply=true", map[string]any{"from": "uat", "to": "prod", "justification": "release 2026.06"}).want(http.StatusOK).decode(&applied)
	asked := h.authz.checks[n:]
	if !slices.Equal(asked, []admin.Check{{ResourceType: "project", ResourceID: "loans", Action: admin.ManageAccess},
		{ResourceType: "project", ResourceID: "loans", Action: admin.ChangeActivePolicy}}) {
		t.Fatalf("apply checked %+v", asked)
	}
	if !applied.Applied || applied.Revision != rev+1 || h.revision(org) != rev+1 || !slices.Equal(planItems(applied), want) {
		t.Fatalf("applied: %+v", applied)
	}
	last := h.audit(org)
	e := last[len(last)-1]
	if e.Action != "environment.promoted" || e.Target != "project/loans/environments/prod" || e.Justification != "release 2026.06" || e.Revision != rev+1 {
		t.Fatalf("audit entry %+v", e)
	}
	o, _ = h.exported(org)
	for _, u := range users {
		uat, prod := runtimeAnswers(t, svc, o, u, "loans", "uat"), runtimeAnswers(t, svc, o, u, "loans", "prod")
		if !mapsEqual(uat, prod) {
			t.Errorf("%s decides differently in prod than in uat after the promotion:\nuat  %v\nprod %v", u, uat, prod)
		}
	}
	// Promoting again changes nothing.
	var again domain.PromotionPlan
	h.do("POST", base, map[string]any{"from": "uat", "to": "prod"}).want(http.StatusOK).decode(&again)
	if again.Changes() != 0 {
		t.Fatalf("a second promotion would change %d records: %q", again.Changes(), planItems(again))
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// Refused promotions change nothing and say why; prune removes what only
// the target has.
func TestPromotionRefusals(t *testing.T) {
	for _, c := range []struct {
		name   string
		setup  [][3]any // method, path, body
		body   map[string]any
		status int
		code   verr.Code
		field  string
		allow  []string
		// after a success: the target's shares and overrides (subjects).
		shares, overrides []string
	}{
		{name: "prod's default (b1) cannot hold carol's Auditor share",
			body: map[string]any{"from": "prod", "to": "uat"}, status: 422, code: verr.Invalid, field: "shares", allow: []string{"User", "Clerk", "Manager"}},
		{name: "keeping prod's build b1, a uat share of Auditor is refused",
			setup: [][3]any{{"PUT", "/projects/loans/environments/uat/shares/users/u-bob", map[string]any{"roles": []string{"Auditor"}}}},
			body:  map[string]any{"from": "uat", "to": "prod", "keep_default": true}, status: 422, code: verr.Invalid, field: "shares", allow: []string{"User", "Clerk", "Manager"}},
		{name: "a group override priority taken in the target",
			setup: [][3]any{{"PUT", "/projects/loans/environments/dev/active-policy/overrides/groups/Back%20office", map[string]any{"priority": 1, "policy": map[string]any{"build": "b1"}}},
				{"DELETE", "/projects/loans/environments/prod/shares/users/u-carol", nil}},
			body: map[string]any{"from": "prod", "to": "dev"}, status: 422, code: verr.Invalid, field: "overrides"},
		{name: "with prune the target holds the source's records only",
			setup: [][3]any{{"PUT", "/projects/loans/environments/dev/active-policy/overrides/groups/Back%20office", map[string]any{"priority": 1, "policy": map[string]any{"build": "b1"}}},
				{"DELETE", "/projects/loans/environments/prod/shares/users/u-carol", nil}},
			body: map[string]any{"from": "prod", "to": "dev", "prune": true}, status: 200,
			shares:    []string{"u-alice", "Back office", "u-bob", "u-frank", "Beta testers"},
			overrides: []string{"alice", "Beta testers", "Early access"}},
		{name: "same environment", body: map[string]any{"from": "uat", "to": "uat"}, status: 422, code: verr.Invalid, field: "to"},
		{name: "unknown source", body: map[string]any{"from": "qa", "to": "prod"}, status: 404, code: verr.NotFound, field: "from"},
		{name: "unknown member", body: map[string]any{"from": "uat", "to": "prod", "force": true}, status: 400, code: verr.InvalidInput, field: "force"},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := setup(t)
			org := h.putOrg(orgDoc(t, acmeFile))
			for _, s := range c.setup {
				if r := h.do(s[0].(string), "/admin/v1/orgs/"+org+s[1].(string), s[2]); r.status >= 300 {
					t.Fatalf("setup %v: %d %s", s, r.status, r.body)
				}
			}
			rev := h.revision(org)
			r := h.do("POST", "/admin/v1/orgs/"+org+"/projects/loans/promotion?apply=true", c.body)
			if c.status != 200 {
				e := r.wantError(c.status, c.code, c.field)
				if c.allow != nil && !slices.Equal(e.Allowed, c.allow) {
					t.Fatalf("allowed %v, want %v", e.Allowed, c.allow)
				}
				if h.revision(org) != rev {
					t.Fatal("a refused promotion wrote")
				}
				if c.field == "shares" || c.field == "overrides" {
					var dry domain.PromotionPlan
					h.do("POST", "/admin/v1/orgs/"+org+"/projects/loans/promotion", c.body).want(http.StatusOK).decode(&dry)
					if len(dry.Refused) == 0 {
						t.Fatal("the dry run lists no refusal")
					}
				}
				return
			}
			r.want(http.StatusOK)
			o, _ := h.exported(org)
			dev := o.Projects[0].Environments["dev"]
			var shares, overrides []string
			for _, s := range dev.Shares {
				shares = append(shares, s.Subject.User+s.Subject.Group)
			}
			for _, ov := range dev.ActivePolicy.Overrides {
				overrides = append(overrides, ov.Username+ov.Group+ov.Role)
			}
			if !slices.Equal(shares, c.shares) || !slices.Equal(overrides, c.overrides) {
				t.Fatalf("dev shares %v overrides %v, want %v %v", shares, overrides, c.shares, c.overrides)
			}
		})
	}
}

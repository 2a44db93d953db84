package migrate_test

import (
	"context"
	"encoding/json"
	"slices"
	"testing"

	"github.com/verdict-pdp/verdict/internal/migrate"
	"github.com/verdict-pdp/verdict/internal/verr"
)

// mini is a small 5.1 export the cases below change: project p serves v1 in
// prod; v1 and v2 list Teller and Boss (not User); "home" has no role list.
const mini = `{"format": "flowx-5.1-runtime", "org": "mini", "environments": ["prod"],
 "workspaces": [{"id": "ws"}],
 "users": [
  {"id": "u1", "username": "ann", "enabled": true, "email_verified": true, "roles": ["Teller"]},
  {"id": "u2", "username": "ben", "enabled": true, "email_verified": true},
  {"id": "u3", "username": "cat", "enabled": true, "email_verified": true, "roles": ["Boss"]},
  {"id": "u4", "username": "dee", "enabled": false, "roles": ["Teller"]}],
 "roles": [{"name": "Teller"}, {"name": "Boss"}],
 "groups": [{"name": "Tellers", "members": ["u2"], "roles": ["Teller"]}],
 "projects": [{"id": "p", "workspace": "ws",
  "builds": [
   {"id": "v1", "branch": "main", "created": "2026-01-01T00:00:00Z", "roles": ["Teller", "Boss"],
    "ui_flows": [{"id": "home"}, {"id": "desk", "roles": ["Teller"]}],
    "processes": [{"id": "approve", "roles": ["Boss"], "swimlanes": {"sign": {"Boss": ["view", "execute"]}}}]},
   {"id": "v2", "branch": "main", "created": "2026-02-01T00:00:00Z", "roles": ["Teller", "Boss"],
    "ui_flows": [{"id": "home"}, {"id": "new", "roles": ["Boss"]}], "processes": []}],
  "environments": {"prod": {"active_policy": {"policy_type": "build", "build": "v1"}}}}]}`

func edit(t *testing.T, base string, fns ...func(o map[string]any)) []byte {
	t.Helper()
	var o map[string]any
	if err := json.Unmarshal([]byte(base), &o); err != nil {
		t.Fatal(err)
	}
	for _, f := range fns {
		f(o)
	}
	b, _ := json.Marshal(o)
	return b
}

func obj(v any, path ...any) map[string]any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			v = v.(map[string]any)[k]
		case int:
			v = v.([]any)[k]
		}
	}
	return v.(map[string]any)
}

func list(v any, path ...any) []any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			v = v.(map[string]any)[k]
		case int:
			v = v.([]any)[k]
		}
	}
	return v.([]any)
}

func kinds(r *migrate.Report) map[string]int {
	out := map[string]int{}
	for _, c := range r.Changes {
		out[c.Kind]++
	}
	return out
}

// Data-driven: each case is an export, the changes it must make (counts by
// kind, the shares and legacy grants of the document) and the replay it
// must give (differences by cause; never an unexplained one).
func TestConvertAndReplay(t *testing.T) {
	roleOverride := func(o map[string]any) {
		obj(o, "projects", 0, "environments", "prod")["role_overrides"] = []any{
			map[string]any{"role": "Boss", "priority": 1, "policy_type": "build", "build": "v2"}}
	}
	for _, c := range []struct {
		name        string
		export      []byte
		kinds       map[string]int // counts of some change kinds
		shares      []string       // subject:roles in prod of p
		legacy      []string       // user:role
		explained   map[string]int // differences by cause
		questions   int
		suggestions []bool // applied, per role override
	}{
		{
			name:   "flows without a list: those who could launch them get User",
			export: []byte(mini),
			kinds:  map[string]int{migrate.ChangeFlowDefaultRole: 2, migrate.ChangeBuildRoleAdded: 2, migrate.ChangeRoleCreated: 3, migrate.ChangeUserShare: 3, migrate.ChangeGroupShare: 1},
			shares: []string{"g:Tellers:Teller", "u:u1:User", "u:u2:User", "u:u3:User"},
			legacy: []string{"u1:Teller", "u3:Boss", "u4:Teller"},
			// 3 users x (access, home, desk, approve, 3 rights on sign).
			questions: 21,
		},
		{
			name:        "a role override with no exact group: the build changes, explained",
			export:      edit(t, mini, roleOverride),
			kinds:       map[string]int{migrate.ChangeRoleOverrideKept: 1, migrate.ChangeGroupOverride: 0, migrate.ChangeUserShare: 3},
			shares:      []string{"g:Tellers:Teller", "u:u1:User", "u:u2:User", "u:u3:User"},
			legacy:      []string{"u1:Teller", "u3:Boss", "u4:Teller"},
			suggestions: []bool{false},
			// cat was served v2 (new, home) by the Boss role override; now v1.
			explained: map[string]int{migrate.CauseRoleOverride: 5},
			questions: 22,
		},
		{
			name: "a role override whose holders are exactly a group's members becomes a group override",
			export: edit(t, mini, roleOverride, func(o map[string]any) {
				o["groups"] = append(list(o, "groups"), map[string]any{"name": "Bosses", "members": []any{"u3"}})
			}),
			kinds:       map[string]int{migrate.ChangeRoleOverrideKept: 1, migrate.ChangeGroupOverride: 1},
			shares:      []string{"g:Tellers:Teller", "u:u1:User", "u:u2:User", "u:u3:User"},
			legacy:      []string{"u1:Teller", "u3:Boss", "u4:Teller"},
			suggestions: []bool{true},
			// cat: access, home, new on v2 (no process there).
			questions: 17,
		},
		{
			name: "a designer with a runtime role gains what the designer bypass gives, explained",
			export: edit(t, mini, func(o map[string]any) {
				obj(o, "users", 0)["designer_user"] = true
				o["designer_roles"] = []any{map[string]any{"subject": map[string]any{"user": "u1"}, "role": "project_editor", "scope": map[string]any{"project": "p"}}}
			}),
			shares: []string{"g:Tellers:Teller", "u:u1:User", "u:u2:User", "u:u3:User"},
			legacy: []string{"u1:Teller", "u3:Boss", "u4:Teller"},
			// ann: start approve, view and execute sign, and self_assign (nobody had it).
			explained: map[string]int{migrate.CauseDesignerBypass: 4},
			questions: 21,
		},
		{
			name: "a direct User role becomes shares, not a legacy grant, when a catalog had to gain User",
			export: edit(t, mini, func(o map[string]any) {
				o["roles"] = append(list(o, "roles"), map[string]any{"name": "User"})
				o["users"] = append(list(o, "users"), map[string]any{"id": "u5", "username": "eve", "enabled": true, "roles": []any{"User"}})
				o["projects"] = append(list(o, "projects"), map[string]any{"id": "q", "workspace": "ws",
					"builds": []any{map[string]any{"id": "w1", "branch": "main", "created": "2026-01-01T00:00:00Z", "roles": []any{"User"},
						"ui_flows": []any{map[string]any{"id": "portal", "roles": []any{"User"}}}, "processes": []any{}}},
					"environments": map[string]any{"prod": map[string]any{"active_policy": map[string]any{"policy_type": "build", "build": "w1"}}}})
			}),
			kinds:  map[string]int{migrate.ChangeDirectUserAsShares: 1, migrate.ChangeRoleCreated: 3},
			shares: []string{"g:Tellers:Teller", "u:u1:User", "u:u2:User", "u:u3:User"},
			legacy: []string{"u1:Teller", "u3:Boss", "u4:Teller"},
			// eve: q (access, portal) and p (access: none either way); the
			// three others: access to q (none either way); plus 21 as above.
			questions: 27,
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			e, err := migrate.Decode(c.export)
			if err != nil {
				t.Fatal(err)
			}
			doc, rep, err := migrate.Convert(e)
			if err != nil {
				t.Fatal(err)
			}
			got := kinds(rep)
			for k, n := range c.kinds {
				if got[k] != n {
					t.Errorf("%d changes of kind %s, want %d", got[k], k, n)
				}
			}
			var shares []string
			for _, s := range doc.Projects[0].Environments["prod"].Shares {
				for _, r := range s.Roles {
					if s.Subject.Group != "" {
						shares = append(shares, "g:"+s.Subject.Group+":"+r)
					} else {
						shares = append(shares, "u:"+s.Subject.User+":"+r)
					}
				}
			}
			if !slices.Equal(shares, c.shares) {
				t.Errorf("shares of p/prod %v, want %v", shares, c.shares)
			}
			var legacy []string
			for _, g := range doc.LegacyGrants {
				legacy = append(legacy, g.User+":"+g.Role)
			}
			if !slices.Equal(legacy, c.legacy) {
				t.Errorf("legacy grants %v, want %v", legacy, c.legacy)
			}
			var applied []bool
			for _, s := range rep.Suggestions {
				applied = append(applied, s.Applied)
			}
			if !slices.Equal(applied, c.suggestions) {
				t.Errorf("suggestions applied %v, want %v (%+v)", applied, c.suggestions, rep.Suggestions)
			}
			rp, err := migrate.RunReplay(context.Background(), e, doc, newEngine(t), nil)
			if err != nil {
				t.Fatal(err)
			}
			if !rp.OK() {
				t.Errorf("unexplained differences: %+v", rp.Unexplained)
			}
			causes := map[string]int{}
			for _, d := range rp.Explained {
				causes[d.Cause]++
			}
			if len(causes) != len(c.explained) {
				t.Errorf("explained differences %v (%+v), want %v", causes, rp.Explained, c.explained)
			}
			for k, n := range c.explained {
				if causes[k] != n {
					t.Errorf("%d differences caused by %s, want %d: %+v", causes[k], k, n, rp.Explained)
				}
			}
			if rp.Questions != c.questions || rp.Agreed+len(rp.Explained) != rp.Questions {
				t.Errorf("replay: %d questions (want %d), %d agreed, %d explained", rp.Questions, c.questions, rp.Agreed, len(rp.Explained))
			}
		})
	}
}

// A replay that finds a difference with no known cause reports it: the
// document is broken on purpose (a share taken away after conversion).
func TestReplayFlagsLostAccess(t *testing.T) {
	e, err := migrate.Decode([]byte(mini))
	if err != nil {
		t.Fatal(err)
	}
	doc, _, err := migrate.Convert(e)
	if err != nil {
		t.Fatal(err)
	}
	env := doc.Projects[0].Environments["prod"]
	env.Shares = env.Shares[1:] // Tellers loses its Teller share: ben loses desk
	rp, err := migrate.RunReplay(context.Background(), e, doc, newEngine(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	var lost []string
	for _, d := range rp.Unexplained {
		lost = append(lost, d.User+" "+d.Question+" "+d.Before+"->"+d.After)
	}
	if want := []string{"u2 launch ui_flow desk allow->deny"}; !slices.Equal(lost, want) {
		t.Fatalf("unexplained %v, want %v", lost, want)
	}
}

// A bad export is refused with the JSON path at fault in the export.
func TestDecodeErrors(t *testing.T) {
	for _, c := range []struct {
		name  string
		doc   []byte
		code  verr.Code
		field string
	}{
		{"malformed", []byte(`{"format":`), verr.InvalidInput, "format"},
		{"unknown member", edit(t, mini, func(o map[string]any) { obj(o, "users", 1)["nick"] = "b" }), verr.InvalidInput, "users[1].nick"},
		{"wrong type", edit(t, mini, func(o map[string]any) { obj(o, "users", 1)["enabled"] = "yes" }), verr.InvalidInput, "users[1].enabled"},
		{"another format", edit(t, mini, func(o map[string]any) { o["format"] = "verdict" }), verr.Invalid, "format"},
		{"org id", edit(t, mini, func(o map[string]any) { o["org"] = "Mini Org" }), verr.Invalid, "org"},
		{"duplicate user", edit(t, mini, func(o map[string]any) { obj(o, "users", 1)["id"] = "u1" }), verr.Invalid, "users[1].id"},
		{"unknown role of a user", edit(t, mini, func(o map[string]any) { obj(o, "users", 0)["roles"] = []any{"Nope"} }), verr.Invalid, "users[0].roles[0]"},
		{"unknown member", edit(t, mini, func(o map[string]any) { obj(o, "groups", 0)["members"] = []any{"u9"} }), verr.Invalid, "groups[0].members[0]"},
		{"unknown environment", edit(t, mini, func(o map[string]any) {
			obj(o, "projects", 0, "environments")["qa"] = map[string]any{}
		}), verr.Invalid, "projects[0].environments.qa"},
		{"unknown build", edit(t, mini, func(o map[string]any) {
			obj(o, "projects", 0, "environments", "prod", "active_policy")["build"] = "v9"
		}), verr.Invalid, "projects[0].environments.prod.active_policy.build"},
		{"policy type", edit(t, mini, func(o map[string]any) {
			obj(o, "projects", 0, "environments", "prod", "active_policy")["policy_type"] = "newest"
		}), verr.Invalid, "projects[0].environments.prod.active_policy.policy_type"},
		{"override of an unknown username", edit(t, mini, func(o map[string]any) {
			obj(o, "projects", 0, "environments", "prod")["username_overrides"] = []any{map[string]any{"username": "zed", "policy_type": "build", "build": "v2"}}
		}), verr.Invalid, "projects[0].environments.prod.username_overrides[0].username"},
		// Carried-over parts are checked by the org document's rules, at the same path.
		{"group name rule", edit(t, mini, func(o map[string]any) { obj(o, "groups", 0)["name"] = "Tellers/EU" }), verr.Invalid, "groups[0].name"},
		{"flow role outside the build", edit(t, mini, func(o map[string]any) {
			obj(o, "projects", 0, "builds", 0, "ui_flows", 1)["roles"] = []any{"Auditor"}
		}), verr.Invalid, "projects[0].builds[0].ui_flows[1].roles[0]"},
	} {
		t.Run(c.name, func(t *testing.T) {
			e, err := migrate.Decode(c.doc)
			if err == nil {
				_, _, err = migrate.Convert(e)
			}
			if err == nil {
				t.Fatal("accepted")
			}
			ve := verr.As(err)
			if ve.Code != c.code || ve.Field != c.field {
				t.Fatalf("error %v (code %s, field %q), want code %s field %q", err, ve.Code, ve.Field, c.code, c.field)
			}
		})
	}
}

package orgdoc

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/verdict-pdp/verdict/internal/verr"
)

// Paths into testdata/valid_org.json, as mutation paths and as error fields.
var (
	pP  = []any{"projects", 0}
	pB  = slices.Concat(pP, []any{"builds", 0})
	pE  = slices.Concat(pP, []any{"environments", "prod"})
	pAP = slices.Concat(pE, []any{"active_policy"})
	pO  = slices.Concat(pAP, []any{"overrides"})
	pFP = slices.Concat(pP, []any{"flow_permissions"})
)

const (
	fB  = "projects[0].builds[0]"
	fE  = "projects[0].environments.prod"
	fAP = fE + ".active_policy"
	fO  = fAP + ".overrides"
	fFP = "projects[0].flow_permissions"
)

// at joins a prefix path and more elements into a new path.
func at(prefix []any, more ...any) []any { return slices.Concat(prefix, more) }

type mut struct {
	path []any
	val  any
}

// set is one mutation: val at path.
func set(val any, path ...any) mut { return mut{path, val} }

func obj(kv ...any) map[string]any {
	m := map[string]any{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1]
	}
	return m
}

// list builds a JSON list; never nil, so an empty one marshals as [] not null.
func list(v ...any) []any { return append([]any{}, v...) }

// orgErrorCase is one mutation of the valid fixture and the refusal it gets.
type orgErrorCase struct {
	name  string
	muts  []mut
	code  verr.Code
	field string
}

// orgErrorCases mutate the valid fixture once per rule (TestOrgErrors, and
// TestStreamErrors for the streamed decoder).
var orgErrorCases = []orgErrorCase{
	// Decoding: shape and types (verr.InvalidInput).
	{"unknown top-level field", []mut{set("x", "colour")}, verr.InvalidInput, "colour"},
	{"unknown user field", []mut{set("x", "users", 0, "nickname")}, verr.InvalidInput, "users[0].nickname"},
	{"unknown share subject field", []mut{set("x", at(pE, "shares", 0, "subject", "role")...)}, verr.InvalidInput, fE + ".shares[0].subject.role"},
	{"string where a list is expected", []mut{set("prod", "environments")}, verr.InvalidInput, "environments"},
	{"number where a bool is expected", []mut{set(1, "users", 0, "designer_user")}, verr.InvalidInput, "users[0].designer_user"},
	{"non-integer priority", []mut{set(json.Number("1.5"), at(pO, 1, "priority")...)}, verr.InvalidInput, fO + "[1].priority"},
	{"exponent priority", []mut{set(json.Number("1e2"), at(pO, 1, "priority")...)}, verr.InvalidInput, fO + "[1].priority"},
	{"overflowing priority", []mut{set(json.Number("99999999999999999999999"), at(pO, 1, "priority")...)}, verr.InvalidInput, fO + "[1].priority"},
	{"string priority", []mut{set("1", at(pO, 1, "priority")...)}, verr.InvalidInput, fO + "[1].priority"},
	{"null subject", []mut{set(nil, at(pE, "shares", 0, "subject")...)}, verr.InvalidInput, fE + ".shares[0].subject"},
	{"null string", []mut{set(nil, "users", 0, "username")}, verr.InvalidInput, "users[0].username"},
	{"attribute values not a list", []mut{set("eu", "users", 0, "attributes", "region")}, verr.InvalidInput, "users[0].attributes.region"},
	{"role entry not an object", []mut{set("User", "roles", 0)}, verr.InvalidInput, "roles[0]"},
	{"swimlane rights not a list", []mut{set("view", at(pB, "processes", 0, "swimlanes", "lane", "User")...)}, verr.InvalidInput, fB + ".processes[0].swimlanes.lane.User"},
	{"environments not an object", []mut{set(list(), at(pP, "environments")...)}, verr.InvalidInput, "projects[0].environments"},

	// Identity.
	{"org id missing", []mut{set(del, "org")}, verr.Invalid, "org"},
	{"org id bad", []mut{set("Tiny", "org")}, verr.Invalid, "org"},
	{"org id too long", []mut{set("a123456789012345678901234567890123456789012345678901234567890123", "org")}, verr.Invalid, "org"},
	{"empty environment", []mut{set("", "environments", 1)}, verr.Invalid, "environments[1]"},
	{"duplicate environment", []mut{set("dev", "environments", 1)}, verr.Invalid, "environments[1]"},
	{"empty workspace id", []mut{set("", "workspaces", 1, "id")}, verr.Invalid, "workspaces[1].id"},
	{"duplicate workspace id", []mut{set("ws1", "workspaces", 1, "id")}, verr.Invalid, "workspaces[1].id"},

	// Users, roles, groups, legacy grants.
	{"user id missing", []mut{set(del, "users", 1, "id")}, verr.Invalid, "users[1].id"},
	{"duplicate user id", []mut{set("u1", "users", 1, "id")}, verr.Invalid, "users[1].id"},
	{"username missing", []mut{set("", "users", 1, "username")}, verr.Invalid, "users[1].username"},
	{"duplicate username", []mut{set("ann", "users", 2, "username")}, verr.Invalid, "users[2].username"},
	{"bad status", []mut{set("gone", "users", 3, "status")}, verr.Invalid, "users[3].status"},
	{"missing status", []mut{set(del, "users", 0, "status")}, verr.Invalid, "users[0].status"},
	{"role name missing", []mut{set("", "roles", 1, "name")}, verr.Invalid, "roles[1].name"},
	{"duplicate role", []mut{set("User", "roles", 1, "name")}, verr.Invalid, "roles[1].name"},
	{"role named like a system role", []mut{set("AuthenticatedUser", "roles", 2, "name")}, verr.Invalid, "roles[2].name"},
	{"bad group name", []mut{set("Team/A", "groups", 0, "name")}, verr.Invalid, "groups[0].name"},
	{"empty group name", []mut{set("", "groups", 0, "name")}, verr.Invalid, "groups[0].name"},
	{"duplicate group name", []mut{set("Team A", "groups", 1, "name")}, verr.Invalid, "groups[1].name"},
	{"unknown user in group members", []mut{set("u9", "groups", 0, "members", 1)}, verr.Invalid, "groups[0].members[1]"},
	{"duplicate group member", []mut{set("u1", "groups", 0, "members", 1)}, verr.Invalid, "groups[0].members[1]"},
	{"legacy grant unknown user", []mut{set("u9", "legacy_grants", 0, "user")}, verr.Invalid, "legacy_grants[0].user"},
	{"legacy grant unknown role", []mut{set("Gone", "legacy_grants", 0, "role")}, verr.Invalid, "legacy_grants[0].role"},

	// Designer groups and roles.
	{"bad designer group name", []mut{set("devs!", "designer_groups", 0, "name")}, verr.Invalid, "designer_groups[0].name"},
	{"reserved designer group name", []mut{set("all_users_ws1", "designer_groups", 0, "name")}, verr.Invalid, "designer_groups[0].name"},
	{"duplicate designer group", []mut{set(obj("name", "devs"), "designer_groups", 1)}, verr.Invalid, "designer_groups[1].name"},
	{"designer group unknown member", []mut{set(list("u9"), "designer_groups", 0, "members")}, verr.Invalid, "designer_groups[0].members[0]"},
	{"designer subject both", []mut{set("devs", "designer_roles", 0, "subject", "group")}, verr.Invalid, "designer_roles[0].subject"},
	{"designer subject neither", []mut{set(obj(), "designer_roles", 0, "subject")}, verr.Invalid, "designer_roles[0].subject"},
	{"designer subject unknown user", []mut{set("u9", "designer_roles", 0, "subject", "user")}, verr.Invalid, "designer_roles[0].subject.user"},
	{"designer subject unknown group", []mut{set("ops", "designer_roles", 2, "subject", "group")}, verr.Invalid, "designer_roles[2].subject.group"},
	{"designer subject runtime group", []mut{set("Team A", "designer_roles", 2, "subject", "group")}, verr.Invalid, "designer_roles[2].subject.group"},
	{"system group of unknown workspace", []mut{set("all_users_ws9", "designer_roles", 3, "subject", "group")}, verr.Invalid, "designer_roles[3].subject.group"},
	{"unknown designer role", []mut{set("superuser", "designer_roles", 0, "role")}, verr.Invalid, "designer_roles[0].role"},
	{"scope names two", []mut{set("ws1", "designer_roles", 0, "scope", "workspace")}, verr.Invalid, "designer_roles[0].scope"},
	{"scope names none", []mut{set(obj(), "designer_roles", 0, "scope")}, verr.Invalid, "designer_roles[0].scope"},
	{"org role on a workspace", []mut{set(obj("workspace", "ws1"), "designer_roles", 1, "scope")}, verr.Invalid, "designer_roles[1].scope"},
	{"workspace role on the org", []mut{set(obj("org", true), "designer_roles", 4, "scope")}, verr.Invalid, "designer_roles[4].scope"},
	{"project role on a workspace", []mut{set(obj("workspace", "ws1"), "designer_roles", 7, "scope")}, verr.Invalid, "designer_roles[7].scope"},
	{"unknown workspace scope", []mut{set("ws9", "designer_roles", 5, "scope", "workspace")}, verr.Invalid, "designer_roles[5].scope.workspace"},
	{"unknown project scope", []mut{set("p9", "designer_roles", 8, "scope", "project")}, verr.Invalid, "designer_roles[8].scope.project"},
	{"second project_owner", []mut{set(obj("subject", obj("user", "u2"), "role", "project_owner", "scope", obj("project", "p1")), "designer_roles", 9)}, verr.Invalid, "designer_roles[9].role"},

	// Projects and builds.
	{"project id missing", []mut{set("p1", "designer_roles", 8, "scope", "project"), set("", "projects", 1, "id")}, verr.Invalid, "projects[1].id"},
	{"duplicate project id", []mut{set("p1", "designer_roles", 8, "scope", "project"), set("p1", "projects", 1, "id")}, verr.Invalid, "projects[1].id"},
	{"project workspace missing", []mut{set(del, "projects", 1, "workspace")}, verr.Invalid, "projects[1].workspace"},
	{"project workspace unknown", []mut{set("ws9", "projects", 1, "workspace")}, verr.Invalid, "projects[1].workspace"},
	{"build id missing", []mut{set("", at(pP, "builds", 1, "id")...)}, verr.Invalid, "projects[0].builds[1].id"},
	{"duplicate build id", []mut{set("b1", at(pP, "builds", 1, "id")...)}, verr.Invalid, "projects[0].builds[1].id"},
	{"branch missing", []mut{set("", at(pB, "branch")...)}, verr.Invalid, fB + ".branch"},
	{"created not RFC 3339", []mut{set("2026-01-01", at(pB, "created")...)}, verr.Invalid, fB + ".created"},
	{"created UTC year before 0000", []mut{set("0000-01-01T00:00:00+01:00", at(pB, "created")...)}, verr.Invalid, fB + ".created"},
	{"created UTC year after 9999", []mut{set("9999-12-31T23:00:00-05:00", at(pB, "created")...)}, verr.Invalid, fB + ".created"},
	{"build role empty", []mut{set("", at(pB, "roles", 1)...)}, verr.Invalid, fB + ".roles[1]"},
	{"build role repeated", []mut{set("User", at(pB, "roles", 1)...)}, verr.Invalid, fB + ".roles[1]"},
	{"ui flow id missing", []mut{set("", at(pB, "ui_flows", 0, "id")...)}, verr.Invalid, fB + ".ui_flows[0].id"},
	{"duplicate ui flow id", []mut{set(obj("id", "f1", "roles", list()), at(pB, "ui_flows", 1)...)}, verr.Invalid, fB + ".ui_flows[1].id"},
	{"ui flow role outside the build", []mut{set("Old", at(pB, "ui_flows", 0, "roles", 0)...)}, verr.Invalid, fB + ".ui_flows[0].roles[0]"},
	{"hidden_for outside the build", []mut{set("Old", at(pB, "ui_flows", 0, "components", "btn", "hidden_for", 0)...)}, verr.Invalid, fB + ".ui_flows[0].components.btn.hidden_for[0]"},
	{"disabled_for outside the build", []mut{set("Old", at(pB, "ui_flows", 0, "components", "btn", "disabled_for", 0)...)}, verr.Invalid, fB + ".ui_flows[0].components.btn.disabled_for[0]"},
	{"process id missing", []mut{set(del, at(pB, "processes", 0, "id")...)}, verr.Invalid, fB + ".processes[0].id"},
	{"duplicate process id", []mut{set(obj("id", "pr1", "roles", list()), at(pB, "processes", 1)...)}, verr.Invalid, fB + ".processes[1].id"},
	{"process role outside the build", []mut{set("Old", at(pB, "processes", 0, "roles", 0)...)}, verr.Invalid, fB + ".processes[0].roles[0]"},
	{"swimlane role outside the build", []mut{set(list("view"), at(pB, "processes", 0, "swimlanes", "lane", "Old")...)}, verr.Invalid, fB + ".processes[0].swimlanes.lane.Old"},
	{"swimlane role key is quoted", []mut{set(list("view"), at(pB, "processes", 0, "swimlanes", "lane", "Back office")...)}, verr.Invalid, fB + `.processes[0].swimlanes.lane["Back office"]`},
	{"bad swimlane right", []mut{set("approve", at(pB, "processes", 0, "swimlanes", "lane", "Admin", 2)...)}, verr.Invalid, fB + ".processes[0].swimlanes.lane.Admin[2]"},

	// Environments and active policy.
	{"unknown environment", []mut{set(obj("shares", list()), at(pP, "environments", "qa")...)}, verr.Invalid, "projects[0].environments.qa"},
	{"null environment", []mut{set(nil, at(pE)...)}, verr.Invalid, fE},
	{"default names both", []mut{set("main", at(pAP, "default", "latest_on_branch")...)}, verr.Invalid, fAP + ".default"},
	{"default names neither", []mut{set(obj(), at(pAP, "default")...)}, verr.Invalid, fAP + ".default"},
	{"default names an unknown build", []mut{set("b9", at(pAP, "default", "build")...)}, verr.Invalid, fAP + ".default.build"},
	{"default names another project's build", []mut{set("c1", at(pAP, "default", "build")...)}, verr.Invalid, fAP + ".default.build"},
	{"blank branch", []mut{set(" ", at(pO, 1, "policy", "latest_on_branch")...)}, verr.Invalid, fO + "[1].policy.latest_on_branch"},
	{"override names an unknown build", []mut{set("b9", at(pO, 0, "policy", "build")...)}, verr.Invalid, fO + "[0].policy.build"},
	{"override policy empty", []mut{set(del, at(pO, 2, "policy")...)}, verr.Invalid, fO + "[2].policy"},
	{"override type missing", []mut{set(del, at(pO, 0, "type")...)}, verr.Invalid, fO + "[0].type"},
	{"override type unknown", []mut{set("email", at(pO, 0, "type")...)}, verr.Invalid, fO + "[0].type"},
	{"username override unknown username", []mut{set("zed", at(pO, 0, "username")...)}, verr.Invalid, fO + "[0].username"},
	{"username override by user id", []mut{set("u1", at(pO, 0, "username")...)}, verr.Invalid, fO + "[0].username"},
	{"username override missing username", []mut{set(del, at(pO, 0, "username")...)}, verr.Invalid, fO + "[0].username"},
	{"second username override for one username", []mut{set(obj("type", "username", "username", "ann", "policy", obj("build", "b1")), at(pO, 4)...)}, verr.Invalid, fO + "[4].username"},
	{"priority on a username override", []mut{set(5, at(pO, 0, "priority")...)}, verr.Invalid, fO + "[0].priority"},
	{"group on a username override", []mut{set("Team A", at(pO, 0, "group")...)}, verr.Invalid, fO + "[0].group"},
	{"group override unknown group", []mut{set("Ops", at(pO, 1, "group")...)}, verr.Invalid, fO + "[1].group"},
	{"group override missing group", []mut{set(del, at(pO, 1, "group")...)}, verr.Invalid, fO + "[1].group"},
	{"missing group priority", []mut{set(del, at(pO, 2, "priority")...)}, verr.Invalid, fO + "[2].priority"},
	{"duplicate group priorities", []mut{set(1, at(pO, 2, "priority")...)}, verr.Invalid, fO + "[2].priority"},
	{"username on a group override", []mut{set("ann", at(pO, 1, "username")...)}, verr.Invalid, fO + "[1].username"},
	{"role on a group override", []mut{set("User", at(pO, 1, "role")...)}, verr.Invalid, fO + "[1].role"},
	{"role override missing role", []mut{set("", at(pO, 3, "role")...)}, verr.Invalid, fO + "[3].role"},
	{"group on a role override", []mut{set("Team A", at(pO, 3, "group")...)}, verr.Invalid, fO + "[3].group"},

	// Shares.
	{"share subject both", []mut{set("Team A", at(pE, "shares", 0, "subject", "group")...)}, verr.Invalid, fE + ".shares[0].subject"},
	{"share subject neither", []mut{set(obj(), at(pE, "shares", 0, "subject")...)}, verr.Invalid, fE + ".shares[0].subject"},
	{"share naming unknown user", []mut{set("u9", at(pE, "shares", 0, "subject", "user")...)}, verr.Invalid, fE + ".shares[0].subject.user"},
	{"share naming unknown group", []mut{set("Ops", at(pE, "shares", 1, "subject", "group")...)}, verr.Invalid, fE + ".shares[1].subject.group"},
	{"share naming a designer group", []mut{set("devs", at(pE, "shares", 1, "subject", "group")...)}, verr.Invalid, fE + ".shares[1].subject.group"},
	{"share without roles", []mut{set(list(), at(pE, "shares", 0, "roles")...)}, verr.Invalid, fE + ".shares[0].roles"},
	{"share of an unknown role", []mut{set("Ghost", at(pE, "shares", 1, "roles", 1)...)}, verr.Invalid, fE + ".shares[1].roles[1]"},

	// Flow permissions.
	{"flow permission bad value", []mut{set("allow", at(pFP, "defaults", "users", "u3")...)}, verr.Invalid, fFP + ".defaults.users.u3"},
	{"flow permission unknown user", []mut{set("grant", at(pFP, "flows", "sync", "users", "u9")...)}, verr.Invalid, fFP + ".flows.sync.users.u9"},
	{"flow permission unknown role", []mut{set("deny", at(pFP, "flows", "sync", "roles", "Ghost")...)}, verr.Invalid, fFP + ".flows.sync.roles.Ghost"},
	{"flow permission bad role value", []mut{set("", at(pFP, "defaults", "roles", "AuthenticatedUser")...)}, verr.Invalid, fFP + ".defaults.roles.AuthenticatedUser"},
	{"flow id empty", []mut{set(obj(), at(pFP, "flows", "")...)}, verr.Invalid, fFP + `.flows[""]`},

	// Business filters.
	{"business filter id missing", []mut{set("", "business_filters", 0, "id")}, verr.Invalid, "business_filters[0].id"},
	{"duplicate business filter", []mut{set(obj("id", "by_region", "field", "f", "attribute", "a"), "business_filters", 1)}, verr.Invalid, "business_filters[1].id"},
	{"business filter field missing", []mut{set(del, "business_filters", 0, "field")}, verr.Invalid, "business_filters[0].field"},
	{"business filter attribute missing", []mut{set("", "business_filters", 0, "attribute")}, verr.Invalid, "business_filters[0].attribute"},

	// The first problem in document order is the one reported.
	{"first problem wins", []mut{set("gone", "users", 3, "status"), set("Tiny", "org")}, verr.Invalid, "org"},
}

// doc returns the fixture with tc's mutations, as JSON.
func (tc orgErrorCase) doc(t testing.TB) []byte {
	var doc any = generic(t, readFixture(t))
	for _, m := range tc.muts {
		doc = edit(t, doc, m.path, m.val)
	}
	return marshal(t, doc)
}

// TestOrgErrors mutates the valid fixture once per rule and checks the exact
// code and path of the refusal.
func TestOrgErrors(t *testing.T) {
	for _, tc := range orgErrorCases {
		t.Run(tc.name, func(t *testing.T) {
			o, err := DecodeOrg(tc.doc(t))
			wantErr(t, err, tc.code, tc.field)
			if o != nil {
				t.Fatal("DecodeOrg returned an org with an error")
			}
		})
	}
}

// TestOrgAccepts covers what the rules deliberately allow.
func TestOrgAccepts(t *testing.T) {
	cases := []struct {
		name string
		muts []mut
	}{
		{"no project_owner", []mut{set("project_editor", "designer_roles", 6, "role")}},
		{"one project_owner per project", []mut{set(obj("subject", obj("user", "u2"), "role", "project_owner", "scope", obj("project", "p2")), "designer_roles", 9)}},
		{"role overrides may name any role", []mut{set("NotACatalogRole", at(pO, 3, "role")...)}},
		{"role override priority does not clash", []mut{set(2, at(pO, 3, "priority")...)}},
		{"latest_on_branch of a branch without builds", []mut{set("next", at(pAP, "default", "latest_on_branch")...), set(del, at(pAP, "default", "build")...)}},
		{"no environments listed: any name", []mut{set(del, "environments"), set(obj("shares", list()), at(pP, "environments", "qa")...)}},
		{"no workspaces listed: project workspace unchecked", []mut{set(del, "workspaces"), set(list(), "designer_roles"), set("anything", "projects", 1, "workspace")}},
		{"share of an org role outside the build", []mut{set(list("Old"), at(pE, "shares", 0, "roles")...)}},
		{"null lists and maps", []mut{set(nil, "users", 0, "attributes"), set(nil, at(pE, "shares")...), set(nil, at(pAP, "overrides")...)}},
		{"no active policy", []mut{set(del, at(pAP)...)}},
		// Rule 3: the lowest priority number among them wins (README).
		{"several overrides of one group", []mut{set(obj("type", "group", "group", "Team A", "priority", 7, "policy", obj("build", "b1")), at(pO, 4)...)}},
		// Outside int64 nanoseconds (1677-2262), inside years 0000-9999.
		{"created in year 0000", []mut{set("0000-01-01T00:00:00Z", at(pB, "created")...)}},
		{"created in year 0001", []mut{set("0001-01-01T00:00:00Z", at(pB, "created")...)}},
		{"created in year 9999", []mut{set("9999-12-31T23:59:59.999999999Z", at(pB, "created")...)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var doc any = generic(t, readFixture(t))
			for _, m := range tc.muts {
				doc = edit(t, doc, m.path, m.val)
			}
			if _, err := DecodeOrg(marshal(t, doc)); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestValidateNilAndPrefix(t *testing.T) {
	var o *Org
	wantErr(t, o.Validate("orgs[2]"), verr.Invalid, "orgs[2]")
	var c *Corpus
	wantErr(t, c.Validate(), verr.Invalid, "")
	wantErr(t, (&Org{Org: "x", Users: []User{{ID: "a", Username: "a"}}}).Validate("orgs[1]"), verr.Invalid, "orgs[1].users[0].status")
}

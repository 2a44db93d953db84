package random

import (
	"slices"
	"time"

	"github.com/verdict-pdp/verdict/internal/orgdoc"
)

// oracle decides a request on an org document by a plain reading of
// DESIGN.md §2 and the choices of the README's policy reference, with no
// code in common with the policies or the indexed data: rule 1 (only active
// users), rule 2 (runtime roles under the served build), rule 3 (username
// override, else the lowest priority group override, else the default;
// latest_on_branch by time then id), rule 4 (designer bypass), rules 5, 6
// and 7 (UI flows, components, processes, swimlanes, automation flows deny
// over grant), rule 9 (design time) and rule 10 (admin). It answers the
// decision and the context keys the README names (build, rule, state,
// level, reason); reasons of explanations are not its business.
type oracle struct {
	o   *orgdoc.Org
	req map[string]any
}

// answer is the oracle's decision: Decision and the context keys it
// defines.
type answer struct {
	Decision bool
	Context  map[string]any
}

func deny(reason string) answer { return answer{false, map[string]any{"reason": reason}} }

var builtinActions = map[string][]string{
	"solution":  {"access"},
	"ui_flow":   {"launch"},
	"component": {"view"},
	"process":   {"start"},
	"swimlane":  {"view", "execute", "self_assign"},
	"flow":      {"run"},
	"project":   {"read", "edit", "manage_access", "create_build", "change_active_policy"},
	"org": {"org_runtime_users_read", "org_runtime_users_write", "org_runtime_roles_read",
		"org_runtime_roles_write", "org_runtime_groups_read", "org_runtime_groups_write"},
}

func str(m map[string]any, k string) string { s, _ := m[k].(string); return s }

func obj(m map[string]any, k string) map[string]any { x, _ := m[k].(map[string]any); return x }

// decide answers the request.
func decide(o *orgdoc.Org, req map[string]any) answer {
	x := &oracle{o: o, req: req}
	return x.decide()
}

func (x *oracle) ctx() map[string]any      { return obj(x.req, "context") }
func (x *oracle) resource() map[string]any { return obj(x.req, "resource") }
func (x *oracle) action() string           { return str(obj(x.req, "action"), "name") }
func (x *oracle) env() string              { return str(x.ctx(), "environment") }

func (x *oracle) anonymous() bool {
	s := obj(x.req, "subject")
	return s == nil || str(s, "type") == "anonymous"
}

// user is the stored record of a user subject (nil: anonymous or unknown).
func (x *oracle) user() *orgdoc.User {
	s := obj(x.req, "subject")
	if s == nil || str(s, "type") != "user" {
		return nil
	}
	for i := range x.o.Users {
		if x.o.Users[i].ID == str(s, "id") {
			return &x.o.Users[i]
		}
	}
	return nil
}

// active: rule 1.
func (x *oracle) active() bool {
	u := x.user()
	return u != nil && u.Status == orgdoc.StatusActive
}

func (x *oracle) projectID() string {
	r := x.resource()
	switch str(r, "type") {
	case "solution", "project":
		return str(r, "id")
	}
	return str(obj(r, "properties"), "project")
}

func (x *oracle) project() *orgdoc.Project {
	id := x.projectID()
	for i := range x.o.Projects {
		if x.o.Projects[i].ID == id {
			return &x.o.Projects[i]
		}
	}
	return nil
}

func (x *oracle) decide() answer {
	if str(x.ctx(), "org") != x.o.Org {
		return deny("unknown_org")
	}
	rtype := str(x.resource(), "type")
	acts, builtin := builtinActions[rtype]
	switch {
	case !builtin:
		return deny("unknown_resource_type")
	case !slices.Contains(acts, x.action()):
		return deny("unsupported_action")
	case rtype != "flow" && !x.active():
		return deny("subject_not_active")
	}
	switch rtype {
	case "solution":
		return x.solution()
	case "ui_flow":
		return x.uiFlow()
	case "component":
		return x.component()
	case "process":
		return x.process()
	case "swimlane":
		return x.swimlane()
	case "flow":
		return x.flow()
	case "project":
		return x.designTime()
	default:
		return x.admin()
	}
}

// groupsOf are the runtime groups user id belongs to.
func (x *oracle) groupsOf(id string) []string {
	var out []string
	for _, g := range x.o.Groups {
		if slices.Contains(g.Members, id) {
			out = append(out, g.Name)
		}
	}
	return out
}

// environment is the project's settings in the request's environment.
func (x *oracle) environment(p *orgdoc.Project) *orgdoc.Environment {
	if p == nil || x.env() == "" {
		return nil
	}
	return p.Environments[x.env()]
}

// selection is rule 3's choice: the policy and the rule that chose it; ok
// is false without an active policy.
func (x *oracle) selection(p *orgdoc.Project) (pol orgdoc.Policy, rule string, ok bool) {
	e := x.environment(p)
	if e == nil || e.ActivePolicy == nil {
		return pol, "", false
	}
	ap := e.ActivePolicy
	u := x.user()
	if u != nil {
		for _, ov := range ap.Overrides {
			if ov.Type == orgdoc.OverrideUsername && ov.Username == u.Username {
				return ov.Policy, "username_override", true
			}
		}
		groups := x.groupsOf(u.ID)
		var best *orgdoc.Override
		for i, ov := range ap.Overrides {
			if ov.Type == orgdoc.OverrideGroup && slices.Contains(groups, ov.Group) &&
				(best == nil || *ov.Priority < *best.Priority) {
				best = &ap.Overrides[i]
			}
		}
		if best != nil {
			return best.Policy, "group_override", true
		}
	}
	return ap.Default, "default", true
}

// served is the build the subject is served (nil: none), and the rule.
func (x *oracle) served(p *orgdoc.Project) (*orgdoc.Build, string, string) {
	pol, rule, ok := x.selection(p)
	if !ok {
		return nil, "", "no_active_policy"
	}
	if pol.Build != "" {
		for i := range p.Builds {
			if p.Builds[i].ID == pol.Build {
				return &p.Builds[i], rule, ""
			}
		}
		return nil, rule, "no_build_served"
	}
	var best *orgdoc.Build
	var bestT time.Time
	for i := range p.Builds {
		b := &p.Builds[i]
		if b.Branch != pol.LatestOnBranch {
			continue
		}
		t, err := time.Parse(time.RFC3339Nano, b.Created)
		if err != nil {
			continue
		}
		if best == nil || t.After(bestT) || (t.Equal(bestT) && b.ID > best.ID) {
			best, bestT = b, t
		}
	}
	if best == nil {
		return nil, rule, "no_build_served"
	}
	return best, rule, ""
}

// roles is rule 2: shares to the user and its groups on (P,E) and legacy
// grants, within the served build's catalog.
func (x *oracle) roles(p *orgdoc.Project, b *orgdoc.Build) []string {
	u := x.user()
	if !x.active() || b == nil {
		return nil
	}
	var granted []string
	if e := x.environment(p); e != nil {
		groups := x.groupsOf(u.ID)
		for _, s := range e.Shares {
			if s.Subject.User == u.ID || (s.Subject.Group != "" && slices.Contains(groups, s.Subject.Group)) {
				granted = append(granted, s.Roles...)
			}
		}
	}
	for _, lg := range x.o.LegacyGrants {
		if lg.User == u.ID {
			granted = append(granted, lg.Role)
		}
	}
	var out []string
	for _, r := range granted {
		if slices.Contains(b.Roles, r) && !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	return out
}

// designerGrants are the designer role assignments of the user: direct,
// through the designer groups it is a member of, and through
// all_users_<ws> for every workspace where it holds a workspace-scoped role
// directly or through a designer group.
func (x *oracle) designerGrants() []orgdoc.DesignerRole {
	u := x.user()
	if u == nil {
		return nil
	}
	var dgroups []string
	for _, g := range x.o.DesignerGroups {
		if slices.Contains(g.Members, u.ID) {
			dgroups = append(dgroups, g.Name)
		}
	}
	var held []orgdoc.DesignerRole
	for _, d := range x.o.DesignerRoles {
		if d.Subject.User == u.ID || (d.Subject.Group != "" && slices.Contains(dgroups, d.Subject.Group)) {
			held = append(held, d)
		}
	}
	var all []string
	for _, d := range held {
		if d.Scope.Workspace != "" {
			all = append(all, orgdoc.SystemGroupPrefix+d.Scope.Workspace)
		}
	}
	out := slices.Clone(held)
	for _, d := range x.o.DesignerRoles {
		if d.Subject.Group != "" && slices.Contains(all, d.Subject.Group) {
			out = append(out, d)
		}
	}
	return out
}

// bypass is rule 4.
func (x *oracle) bypass(p *orgdoc.Project) bool {
	u := x.user()
	if !x.active() || !u.DesignerUser || p == nil {
		return false
	}
	for _, d := range x.designerGrants() {
		switch {
		case d.Scope.Project == p.ID:
			return true
		case d.Scope.Workspace == p.Workspace && d.Role == orgdoc.DesignerWorkspaceAdmin:
			return true
		case d.Scope.Org && (d.Role == orgdoc.DesignerOrgAdmin || d.Role == orgdoc.DesignerOrgOwner):
			return true
		}
	}
	return false
}

// runtime is what every runtime decision but flows needs: the project, the
// served build and why nothing can be decided ("" when something can).
func (x *oracle) runtime() (*orgdoc.Project, *orgdoc.Build, string, string) {
	p := x.project()
	switch {
	case p == nil:
		return nil, nil, "", "unknown_project"
	case x.env() == "":
		return p, nil, "", "environment_required"
	}
	b, rule, blocked := x.served(p)
	return p, b, rule, blocked
}

func intersects(a, b []string) bool {
	return slices.ContainsFunc(a, func(s string) bool { return slices.Contains(b, s) })
}

func (x *oracle) solution() answer {
	p, b, rule, blocked := x.runtime()
	if blocked != "" {
		return deny(blocked)
	}
	if len(x.roles(p, b)) > 0 || x.bypass(p) {
		return answer{true, map[string]any{"build": b.ID, "rule": rule}}
	}
	return deny("no_runtime_role")
}

func (x *oracle) uiFlowOf(b *orgdoc.Build, id string) *orgdoc.UIFlow {
	if b == nil {
		return nil
	}
	for i := range b.UIFlows {
		if b.UIFlows[i].ID == id {
			return &b.UIFlows[i]
		}
	}
	return nil
}

func (x *oracle) uiFlow() answer {
	p, b, _, blocked := x.runtime()
	if blocked != "" {
		return deny(blocked)
	}
	f := x.uiFlowOf(b, str(x.resource(), "id"))
	switch {
	case f == nil:
		return deny("unknown_ui_flow")
	case intersects(x.roles(p, b), f.Roles) || x.bypass(p):
		return answer{true, map[string]any{"build": b.ID}}
	}
	return deny("no_role_on_allow_list")
}

// component is rule 5: hidden unless the flow can be launched; the bypass
// enables; else the most permissive state over the user's roles on the
// flow's allow-list.
func (x *oracle) component() answer {
	state := "hidden"
	p, b, _, blocked := x.runtime()
	var f *orgdoc.UIFlow
	if blocked == "" {
		f = x.uiFlowOf(b, str(obj(x.resource(), "properties"), "ui_flow"))
	}
	if f != nil {
		var launch []string
		for _, r := range x.roles(p, b) {
			if slices.Contains(f.Roles, r) {
				launch = append(launch, r)
			}
		}
		switch {
		case x.bypass(p):
			state = "enabled"
		case len(launch) > 0:
			c := f.Components[str(x.resource(), "id")]
			rank := map[string]int{"hidden": 0, "disabled": 1, "enabled": 2}
			for _, r := range launch {
				s := "enabled"
				if slices.Contains(c.HiddenFor, r) {
					s = "hidden"
				} else if slices.Contains(c.DisabledFor, r) {
					s = "disabled"
				}
				if rank[s] > rank[state] {
					state = s
				}
			}
		}
	}
	return answer{state != "hidden", map[string]any{"state": state}}
}

func (x *oracle) processOf(b *orgdoc.Build, id string) *orgdoc.Process {
	for i := range b.Processes {
		if b.Processes[i].ID == id {
			return &b.Processes[i]
		}
	}
	return nil
}

func (x *oracle) process() answer {
	p, b, _, blocked := x.runtime()
	if blocked != "" {
		return deny(blocked)
	}
	pr := x.processOf(b, str(x.resource(), "id"))
	switch {
	case pr == nil:
		return deny("unknown_process")
	case intersects(x.roles(p, b), pr.Roles) || x.bypass(p):
		return answer{true, map[string]any{"build": b.ID}}
	}
	return deny("no_role_on_process")
}

// swimlane is rule 6: rights are the union over the user's roles,
// independent of starting the process; the bypass gives all three.
func (x *oracle) swimlane() answer {
	p, b, _, blocked := x.runtime()
	if blocked != "" {
		return deny(blocked)
	}
	pr := x.processOf(b, str(obj(x.resource(), "properties"), "process"))
	if pr == nil {
		return deny("unknown_process")
	}
	lane, ok := pr.Swimlanes[str(x.resource(), "id")]
	if !ok {
		return deny("unknown_swimlane")
	}
	allowed := x.bypass(p)
	for _, r := range x.roles(p, b) {
		allowed = allowed || slices.Contains(lane[r], x.action())
	}
	if allowed {
		return answer{true, map[string]any{"build": b.ID}}
	}
	return deny("no_swimlane_right")
}

// flow is rule 7: the subjects that apply are the user, its runtime roles
// under the served build and AuthenticatedUser (NonAuthenticatedUser for
// anonymous callers); the flow's entries first, any deny denies, else any
// grant allows; with none that applies, the app-wide entries the same way;
// else allow.
func (x *oracle) flow() answer {
	p := x.project()
	switch {
	case p == nil:
		return deny("unknown_project")
	case x.env() == "":
		return deny("environment_required")
	case !x.anonymous() && !x.active():
		return deny("subject_not_active")
	}
	var subjects []string
	var uid string
	if x.anonymous() {
		subjects = []string{orgdoc.RoleNonAuthenticatedUser}
	} else {
		b, _, _ := x.served(p)
		subjects = append(x.roles(p, b), orgdoc.RoleAuthenticatedUser)
		uid = x.user().ID
	}
	verdict := func(e orgdoc.FlowEntries) string {
		v := ""
		for u, g := range e.Users {
			if uid != "" && u == uid && v != orgdoc.FlowDeny {
				v = g
			}
		}
		for r, g := range e.Roles {
			if slices.Contains(subjects, r) && v != orgdoc.FlowDeny {
				v = g
			}
		}
		return v
	}
	fp := p.FlowPermissions
	if fp != nil {
		if e, ok := fp.Flows[str(x.resource(), "id")]; ok {
			if v := verdict(e); v != "" {
				return answer{v == orgdoc.FlowGrant, map[string]any{"level": "flow"}}
			}
		}
		if fp.Defaults != nil {
			if v := verdict(*fp.Defaults); v != "" {
				return answer{v == orgdoc.FlowGrant, map[string]any{"level": "app-wide"}}
			}
		}
	}
	return answer{true, map[string]any{"level": "default"}}
}

// designTime is rule 9.
func (x *oracle) designTime() answer {
	p := x.project()
	if p == nil {
		return deny("unknown_project")
	}
	act := x.action()
	all := builtinActions["project"]
	allows := map[string][]string{
		orgdoc.DesignerProjectViewer:          {"read"},
		orgdoc.DesignerProjectEditor:          {"read", "edit"},
		orgdoc.DesignerProjectOwner:           {"read", "edit", "manage_access"},
		orgdoc.DesignerWorkspaceAdmin:         all,
		orgdoc.DesignerWorkspaceRuntimeEditor: {"create_build", "change_active_policy"},
		orgdoc.DesignerThemeEditor:            {"read"},
		orgdoc.DesignerOrgAdmin:               all,
		orgdoc.DesignerOrgOwner:               all,
	}
	for _, d := range x.designerGrants() {
		inScope := d.Scope.Project == p.ID || d.Scope.Workspace == p.Workspace || d.Scope.Org
		if inScope && slices.Contains(allows[d.Role], act) {
			// A project role on another project, or an org role given on
			// a workspace, cannot happen: roles come with their scope kind.
			return answer{true, map[string]any{}}
		}
	}
	return deny("no_designer_permission")
}

// admin is rule 10.
func (x *oracle) admin() answer {
	if str(x.resource(), "id") != x.o.Org {
		return deny("other_org")
	}
	for _, d := range x.designerGrants() {
		if d.Scope.Org && (d.Role == orgdoc.DesignerOrgAdmin || d.Role == orgdoc.DesignerOrgOwner) {
			return answer{true, map[string]any{}}
		}
	}
	return deny("not_org_admin")
}

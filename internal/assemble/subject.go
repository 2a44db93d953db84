package assemble

import (
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/verdict-pdp/verdict/internal/facts"
)

// terms are an Index's values converted to AST once, at index time, so that
// cutting one subject's facts (Subject) assembles a few shared terms instead
// of converting Go values on every decision. Like the Index, they are never
// written after NewIndex: decisions share them.
type terms struct {
	users, userGroups, groups, legacy, dgroupsOf map[string]*ast.Term
	dusers, dgroups, filters                     map[string]*ast.Term
	projects                                     map[string]*projectTerms
}

type projectTerms struct {
	workspace, flowPermissions, builds *ast.Term // flowPermissions nil when none
	envs                               map[string]*envTerms
}

type envTerms struct {
	def                               *ast.Term // nil: no active policy
	roleOverrides                     *ast.Term
	userOvr, groupOvr, shareU, shareG map[string]*ast.Term
}

func termsOf(ix *Index) *terms {
	t := &terms{
		users: convertAll(ix.Users), userGroups: convertAll(ix.UserGroups), groups: convertAll(ix.Groups),
		legacy: convertAll(ix.LegacyGrants), dgroupsOf: convertAll(ix.DesignerGroupsOf),
		dusers: convertAll(ix.DesignerUsers), dgroups: convertAll(ix.DesignerGroups),
		filters: convertAll(ix.BusinessFilters), projects: map[string]*projectTerms{},
	}
	for id, p := range ix.Projects {
		pt := &projectTerms{workspace: ast.StringTerm(p.Workspace), builds: ast.NewTerm(p.BuildsAST), envs: map[string]*envTerms{}}
		if p.FlowPermissions != nil {
			pt.flowPermissions = ast.NewTerm(mustValue(p.FlowPermissions))
		}
		for name, e := range p.Environments {
			et := &envTerms{roleOverrides: ast.NewTerm(mustValue(e.RoleOverrides)),
				userOvr: convertAll(e.UsernameOverrides), groupOvr: convertAll(e.GroupOverrides),
				shareU: convertAll(e.ShareUsers), shareG: convertAll(e.ShareGroups)}
			if e.Default != nil {
				et.def = ast.NewTerm(mustValue(e.Default))
			}
			pt.envs[name] = et
		}
		t.projects[id] = pt
	}
	return t
}

func convertAll[V any](m map[string]V) map[string]*ast.Term {
	out := make(map[string]*ast.Term, len(m))
	for k, v := range m {
		out[k] = ast.NewTerm(mustValue(v))
	}
	return out
}

// one is {key: t} when t is not nil, else {}.
func one(key string, t *ast.Term) *ast.Term {
	if t == nil || key == "" {
		return ast.NewTerm(ast.NewObject())
	}
	return ast.ObjectTerm([2]*ast.Term{ast.StringTerm(key), t})
}

// Subject renders only what Scope s may read: the subject's record, groups,
// grants and designer assignments, the named project with its builds and the
// named environment's overrides and shares that concern the subject, and the
// named filter. The policies decide the same on this as on Document(), and
// the same as on what internal/facts reads from Redis for s.
func (ix *Index) Subject(s facts.Scope) ast.Value {
	t := ix.terms
	uid := s.Subject
	doc := ast.NewObjectWithCapacity(11)
	put := func(k string, v *ast.Term) { doc.Insert(ast.InternedTerm(k), v) }
	put("org", ast.StringTerm(ix.Org))
	put("users", one(uid, t.users[uid]))
	put("user_groups", one(uid, t.userGroups[uid]))
	groups := ast.NewObjectWithCapacity(len(ix.UserGroups[uid]))
	for _, g := range ix.UserGroups[uid] {
		if v, ok := t.groups[g]; ok {
			groups.Insert(ast.StringTerm(g), v)
		}
	}
	put("groups", ast.NewTerm(groups))
	put("legacy_grants", one(uid, t.legacy[uid]))
	put("designer_groups_of", one(uid, t.dgroupsOf[uid]))
	// Designer assignments of the subject's designer groups and of every
	// all_users_<workspace> system group: membership of those is the
	// policies' call; they are few (one group per workspace).
	dgroups := ast.NewObjectWithCapacity(2)
	for _, g := range ix.DesignerGroupsOf[uid] {
		if v, ok := t.dgroups[g]; ok {
			dgroups.Insert(ast.StringTerm(g), v)
		}
	}
	for g, v := range t.dgroups {
		if strings.HasPrefix(g, "all_users_") {
			dgroups.Insert(ast.StringTerm(g), v)
		}
	}
	put("designer_roles", ast.ObjectTerm(
		[2]*ast.Term{ast.InternedTerm("users"), one(uid, t.dusers[uid])},
		[2]*ast.Term{ast.InternedTerm("groups"), ast.NewTerm(dgroups)},
	))
	projects := ast.NewObjectWithCapacity(1)
	if p, ok := t.projects[s.Project]; ok {
		proj := ast.NewObjectWithCapacity(4)
		proj.Insert(ast.InternedTerm("workspace"), p.workspace)
		proj.Insert(ast.InternedTerm("builds"), p.builds)
		if p.flowPermissions != nil {
			proj.Insert(ast.InternedTerm("flow_permissions"), p.flowPermissions)
		}
		envs := ast.NewObjectWithCapacity(1)
		if e, ok := p.envs[s.Environment]; ok {
			envs.Insert(ast.StringTerm(s.Environment), ix.envTerm(e, uid))
		}
		proj.Insert(ast.InternedTerm("environments"), ast.NewTerm(envs))
		projects.Insert(ast.StringTerm(s.Project), ast.NewTerm(proj))
	}
	put("projects", ast.NewTerm(projects))
	put("business_filters", one(s.Filter, t.filters[s.Filter]))
	if s.Token != nil {
		put("verified_token", facts.TokenTerm(s.Token))
	}
	return doc
}

// envTerm cuts an environment to what concerns uid, its username and groups.
func (ix *Index) envTerm(e *envTerms, uid string) *ast.Term {
	shareG := ast.NewObjectWithCapacity(2)
	groupOvr := ast.NewObjectWithCapacity(2)
	for _, g := range ix.UserGroups[uid] {
		if v, ok := e.shareG[g]; ok {
			shareG.Insert(ast.StringTerm(g), v)
		}
		if v, ok := e.groupOvr[g]; ok {
			groupOvr.Insert(ast.StringTerm(g), v)
		}
	}
	env := ast.NewObjectWithCapacity(2)
	env.Insert(ast.InternedTerm("shares"), ast.ObjectTerm(
		[2]*ast.Term{ast.InternedTerm("users"), one(uid, e.shareU[uid])},
		[2]*ast.Term{ast.InternedTerm("groups"), ast.NewTerm(shareG)},
	))
	if e.def == nil {
		return ast.NewTerm(env)
	}
	username, _ := ix.Users[uid]["username"].(string)
	userOvr := ast.NewObjectWithCapacity(1)
	if v, ok := e.userOvr[username]; ok && username != "" {
		userOvr.Insert(ast.StringTerm(username), v)
	}
	env.Insert(ast.InternedTerm("active_policy"), ast.ObjectTerm(
		[2]*ast.Term{ast.InternedTerm("default"), e.def},
		[2]*ast.Term{ast.InternedTerm("username_overrides"), ast.NewTerm(userOvr)},
		[2]*ast.Term{ast.InternedTerm("group_overrides"), ast.NewTerm(groupOvr)},
		[2]*ast.Term{ast.InternedTerm("role_overrides"), e.roleOverrides},
	))
	return ast.NewTerm(env)
}

package assemble

import (
	"context"
	"strconv"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/verdict-pdp/verdict/internal/decision"
	"github.com/verdict-pdp/verdict/internal/facts"
	"github.com/verdict-pdp/verdict/internal/orgdoc"
	"github.com/verdict-pdp/verdict/internal/verr"
)

// Document renders the whole org in the indexed shape: the data an edge
// bundle carries under verdict_data/orgs/<org>.
func (ix *Index) Document() map[string]any {
	users := map[string]any{}
	for id, u := range ix.Users {
		users[id] = u
	}
	groups := map[string]any{}
	for g, v := range ix.Groups {
		groups[g] = v
	}
	projects := map[string]any{}
	for id, p := range ix.Projects {
		envs := map[string]any{}
		for name, e := range p.Environments {
			envs[name] = e.value(all, all, all)
		}
		projects[id] = p.value(p.Builds, envs)
	}
	return map[string]any{
		"org":                ix.Org,
		"users":              users,
		"user_groups":        listMap(ix.UserGroups, nil),
		"groups":             groups,
		"legacy_grants":      listMap(ix.LegacyGrants, nil),
		"designer_groups_of": listMap(ix.DesignerGroupsOf, nil),
		"designer_roles":     map[string]any{"users": anyListMap(ix.DesignerUsers, nil), "groups": anyListMap(ix.DesignerGroups, nil)},
		"projects":           projects,
		"business_filters":   ix.BusinessFilters,
	}
}

// Subject renders only what Scope s may read: the subject's record, groups,
// grants and designer assignments, the named project with its builds and the
// named environment's overrides and shares that concern the subject, and the
// named filter. The policies decide the same on this as on Document().
func (ix *Index) Subject(s facts.Scope) ast.Value {
	uid := s.Subject
	user := ix.Users[uid]
	mine := map[string]bool{}
	for _, g := range ix.UserGroups[uid] {
		mine[g] = true
	}
	groups := map[string]any{}
	for g := range mine {
		if v, ok := ix.Groups[g]; ok {
			groups[g] = v
		}
	}
	dgroups := map[string]bool{}
	for _, g := range ix.DesignerGroupsOf[uid] {
		dgroups[g] = true
	}
	// The all_users_<workspace> system groups: membership is the policies'
	// call; their assignments are few (one group per workspace), so all of
	// them are handed over.
	for g := range ix.DesignerGroups {
		if strings.HasPrefix(g, "all_users_") {
			dgroups[g] = true
		}
	}
	doc := map[string]any{
		"org":                ix.Org,
		"users":              map[string]any{},
		"user_groups":        listMap(ix.UserGroups, only(uid)),
		"groups":             groups,
		"legacy_grants":      listMap(ix.LegacyGrants, only(uid)),
		"designer_groups_of": listMap(ix.DesignerGroupsOf, only(uid)),
		"designer_roles": map[string]any{
			"users":  anyListMap(ix.DesignerUsers, only(uid)),
			"groups": anyListMap(ix.DesignerGroups, func(g string) bool { return dgroups[g] }),
		},
		"projects":         map[string]any{},
		"business_filters": map[string]any{},
	}
	if user != nil {
		doc["users"] = map[string]any{uid: user}
	}
	if s.Token != nil {
		doc["verified_token"] = TokenValue(s.Token)
	}
	if f, ok := ix.BusinessFilters[s.Filter]; ok {
		doc["business_filters"] = map[string]any{s.Filter: f}
	}
	var builds ast.Value
	if p, ok := ix.Projects[s.Project]; ok {
		envs := map[string]any{}
		if e, ok := p.Environments[s.Environment]; ok {
			username, _ := user["username"].(string)
			envs[s.Environment] = e.value(only(uid), func(g string) bool { return mine[g] }, only(username))
		}
		doc["projects"] = map[string]any{s.Project: p.value(nil, envs)}
		builds = p.BuildsAST
	}
	v := mustValue(doc)
	if builds != nil {
		// Builds are immutable and converted once; put the shared value in
		// rather than converting every manifest on every decision.
		proj := v.(ast.Object).Get(ast.InternedTerm("projects")).Value.(ast.Object).Get(ast.StringTerm(s.Project)).Value.(ast.Object)
		proj.Insert(ast.InternedTerm("builds"), ast.NewTerm(builds))
	}
	return v
}

// TokenValue renders verified token claims.
func TokenValue(t *decision.Token) map[string]any {
	m := map[string]any{"subject": t.Subject}
	if t.DesignerUser != nil {
		m["designer_user"] = *t.DesignerUser
	}
	if t.Attributes != nil {
		m["attributes"] = attrs(t.Attributes)
	}
	return m
}

func (p *ProjectIndex) value(builds map[string]any, envs map[string]any) map[string]any {
	m := map[string]any{"workspace": p.Workspace, "environments": envs}
	if builds != nil {
		m["builds"] = builds
	}
	if p.FlowPermissions != nil {
		m["flow_permissions"] = p.FlowPermissions
	}
	return m
}

// value renders an environment, keeping the shares and overrides whose user
// id, group or username passes the filters.
func (e *EnvIndex) value(keepUser, keepGroup, keepUsername func(string) bool) map[string]any {
	m := map[string]any{"shares": map[string]any{
		"users":  listMap(e.ShareUsers, keepUser),
		"groups": listMap(e.ShareGroups, keepGroup),
	}}
	if e.Default == nil {
		return m
	}
	uo := map[string]any{}
	for name, p := range e.UsernameOverrides {
		if name != "" && keepUsername(name) {
			uo[name] = p
		}
	}
	gov := map[string]any{}
	for g, o := range e.GroupOverrides {
		if keepGroup(g) {
			gov[g] = o
		}
	}
	m["active_policy"] = map[string]any{
		"default": e.Default, "username_overrides": uo, "group_overrides": gov, "role_overrides": e.RoleOverrides,
	}
	return m
}

func only(id string) func(string) bool { return func(k string) bool { return id != "" && k == id } }

func all(string) bool { return true }

func listMap(m map[string][]string, keep func(string) bool) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		if keep == nil || keep(k) {
			out[k] = strs(v)
		}
	}
	return out
}

func anyListMap(m map[string][]any, keep func(string) bool) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		if keep == nil || keep(k) {
			out[k] = v
		}
	}
	return out
}

// DocSource answers Scopes from org documents held in memory (verdict check,
// dev mode, edge PDPs). It is immutable after NewDocSource.
type DocSource struct {
	orgs map[string]*Index
}

// NewDocSource indexes validated org documents.
func NewDocSource(orgs []orgdoc.Org) *DocSource {
	ds := &DocSource{orgs: map[string]*Index{}}
	for i := range orgs {
		ds.orgs[orgs[i].Org] = NewIndex(&orgs[i])
	}
	return ds
}

// Index returns the index of an org, or nil.
func (d *DocSource) Index(org string) *Index { return d.orgs[org] }

// Facts implements facts.Source.
func (d *DocSource) Facts(_ context.Context, s facts.Scope) (facts.Facts, error) {
	if err := s.Validate(); err != nil {
		return facts.Facts{}, err
	}
	ix, ok := d.orgs[s.Org]
	if !ok {
		return facts.Facts{Value: ast.NewObject()}, nil
	}
	status, _ := ix.Users[s.Subject]["status"].(string)
	return facts.Facts{
		Value:  ast.NewObject(ast.Item(ast.StringTerm(s.Org), ast.NewTerm(ix.Subject(s)))),
		Known:  true,
		Active: status == orgdoc.StatusActive,
	}, nil
}

// ScanUserIDs pages through an org's user ids in id order (token: the offset).
func (d *DocSource) ScanUserIDs(_ context.Context, org, token string, batch int) ([]string, string, error) {
	ix := d.orgs[org]
	if ix == nil {
		return nil, "", nil
	}
	ids := sortedKeys(ix.Users)
	off := 0
	if token != "" {
		n, err := strconv.Atoi(token)
		if err != nil || n < 0 {
			return nil, "", verr.New(verr.InvalidInput, "page.token", "not a token of this search")
		}
		off = min(n, len(ids))
	}
	end := min(off+batch, len(ids))
	next := ""
	if end < len(ids) {
		next = strconv.Itoa(end)
	}
	return ids[off:end], next, nil
}

package assemble

import (
	"context"
	"strconv"

	"github.com/open-policy-agent/opa/v1/ast"
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

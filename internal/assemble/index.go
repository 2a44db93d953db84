package assemble

import (
	"slices"
	"sort"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/verdict-pdp/verdict/internal/orgdoc"
)

// Index is one organization's decision data in the indexed shape, kept as Go
// values so that a subject's part can be cut out cheaply. Build manifests are
// converted to AST once: they are immutable and shared by every decision.
type Index struct {
	Org              string
	Users            map[string]map[string]any
	UserGroups       map[string][]string
	Groups           map[string]map[string]any
	LegacyGrants     map[string][]string
	DesignerGroupsOf map[string][]string
	DesignerUsers    map[string][]any // user id -> [{role, scope}]
	DesignerGroups   map[string][]any // group name -> [{role, scope}]
	Projects         map[string]*ProjectIndex
	BusinessFilters  map[string]any

	terms *terms // the values above as AST, for Subject
}

// ProjectIndex is one project's decision data.
type ProjectIndex struct {
	Workspace       string
	Builds          map[string]any
	BuildsAST       ast.Value
	FlowPermissions map[string]any // nil when none
	Environments    map[string]*EnvIndex
}

// EnvIndex is a project's active policy and shares in one environment.
type EnvIndex struct {
	Default           map[string]any // nil when the environment has no active policy
	UsernameOverrides map[string]any
	GroupOverrides    map[string]any
	RoleOverrides     map[string]any
	ShareUsers        map[string][]string
	ShareGroups       map[string][]string
}

// NewIndex indexes a validated org document.
func NewIndex(o *orgdoc.Org) *Index {
	ix := &Index{
		Org:              o.Org,
		Users:            map[string]map[string]any{},
		UserGroups:       map[string][]string{},
		Groups:           map[string]map[string]any{},
		LegacyGrants:     map[string][]string{},
		DesignerGroupsOf: map[string][]string{},
		DesignerUsers:    map[string][]any{},
		DesignerGroups:   map[string][]any{},
		Projects:         map[string]*ProjectIndex{},
		BusinessFilters:  map[string]any{},
	}
	for _, u := range o.Users {
		ix.Users[u.ID] = UserValue(u)
	}
	for _, g := range o.Groups {
		ix.Groups[g.Name] = GroupValue(g)
		for _, m := range g.Members {
			ix.UserGroups[m] = appendUnique(ix.UserGroups[m], g.Name)
		}
	}
	for _, lg := range o.LegacyGrants {
		ix.LegacyGrants[lg.User] = appendUnique(ix.LegacyGrants[lg.User], lg.Role)
	}
	for _, dg := range o.DesignerGroups {
		for _, m := range dg.Members {
			ix.DesignerGroupsOf[m] = appendUnique(ix.DesignerGroupsOf[m], dg.Name)
		}
	}
	for _, dr := range o.DesignerRoles {
		v := DesignerRoleValue(dr)
		if dr.Subject.User != "" {
			ix.DesignerUsers[dr.Subject.User] = append(ix.DesignerUsers[dr.Subject.User], v)
		} else {
			ix.DesignerGroups[dr.Subject.Group] = append(ix.DesignerGroups[dr.Subject.Group], v)
		}
	}
	for i := range o.Projects {
		ix.Projects[o.Projects[i].ID] = NewProjectIndex(&o.Projects[i])
	}
	for _, f := range o.BusinessFilters {
		ix.BusinessFilters[f.ID] = map[string]any{"field": f.Field, "attribute": f.Attribute}
	}
	ix.terms = termsOf(ix)
	return ix
}

// NewProjectIndex indexes one project.
func NewProjectIndex(p *orgdoc.Project) *ProjectIndex {
	pi := &ProjectIndex{Workspace: p.Workspace, Builds: map[string]any{}, Environments: map[string]*EnvIndex{}}
	for _, b := range p.Builds {
		pi.Builds[b.ID] = BuildValue(b)
	}
	pi.BuildsAST = mustValue(pi.Builds)
	if p.FlowPermissions != nil {
		pi.FlowPermissions = FlowPermissionsValue(p.FlowPermissions)
	}
	for name, e := range p.Environments {
		pi.Environments[name] = NewEnvIndex(e)
	}
	return pi
}

// NewEnvIndex indexes one environment of a project.
func NewEnvIndex(e *orgdoc.Environment) *EnvIndex {
	ei := &EnvIndex{
		UsernameOverrides: map[string]any{}, GroupOverrides: map[string]any{}, RoleOverrides: map[string]any{},
		ShareUsers: map[string][]string{}, ShareGroups: map[string][]string{},
	}
	if e == nil {
		return ei
	}
	if ap := e.ActivePolicy; ap != nil {
		ei.Default = PolicyValue(ap.Default)
		for _, o := range ap.Overrides {
			switch o.Type {
			case orgdoc.OverrideUsername:
				ei.UsernameOverrides[o.Username] = PolicyValue(o.Policy)
			case orgdoc.OverrideGroup:
				// Several overrides of one group: the lowest priority number
				// wins (rule 3), wherever it is listed.
				if cur, ok := ei.GroupOverrides[o.Group].(map[string]any); ok && !lower(o.Priority, cur["priority"]) {
					continue
				}
				ei.GroupOverrides[o.Group] = map[string]any{"priority": priority(o.Priority), "policy": PolicyValue(o.Policy)}
			case orgdoc.OverrideRole:
				ei.RoleOverrides[o.Role] = map[string]any{"priority": priority(o.Priority), "policy": PolicyValue(o.Policy)}
			}
		}
	}
	for _, s := range e.Shares {
		if s.Subject.User != "" {
			ei.ShareUsers[s.Subject.User] = appendUnique(ei.ShareUsers[s.Subject.User], s.Roles...)
		} else {
			ei.ShareGroups[s.Subject.Group] = appendUnique(ei.ShareGroups[s.Subject.Group], s.Roles...)
		}
	}
	return ei
}

func priority(p *int) any {
	if p == nil {
		return nil
	}
	return *p
}

// lower reports whether priority p is lower than cur (an indexed priority);
// a missing priority (refused by validation) never wins over a present one.
func lower(p *int, cur any) bool {
	c, ok := cur.(int)
	switch {
	case p == nil:
		return false
	case !ok:
		return true
	}
	return *p < c
}

func appendUnique(xs []string, add ...string) []string {
	for _, a := range add {
		if !slices.Contains(xs, a) {
			xs = append(xs, a)
		}
	}
	return xs
}

func mustValue(x any) ast.Value {
	v, err := ast.InterfaceToValue(x)
	if err != nil {
		// Only JSON-shaped values are built here; anything else is a bug.
		panic(err)
	}
	return v
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

package orgdoc

import (
	"strings"

	"github.com/verdict-pdp/verdict/internal/verr"
)

// nameSet is a set of names.
type nameSet map[string]bool

// invalid is the one way validation reports a broken rule.
func invalid(path, format string, args ...any) error {
	return verr.New(verr.Invalid, path, format, args...)
}

// ref checks that name is non-empty and in known; what names the kind of
// thing referenced ("user", "role") for the message.
func ref(path, what, name string, known nameSet) error {
	if name == "" {
		return invalid(path, "%s is required", what)
	}
	if !known[name] {
		return invalid(path, "unknown %s %q", what, name)
	}
	return nil
}

// Validate checks o against the rules of DESIGN.md §1 and returns the first
// problem found, in document order (map entries in key order), as a
// *verr.Error with Code verr.Invalid and the JSON path of the offending
// field; path is the prefix of o in its document ("orgs[0]", or "" when o is
// the document). Sections are checked in order and each may refer to the
// ones before it; designer roles may also name any project of o.
func (o *Org) Validate(path string) error {
	if o == nil {
		return invalid(path, "org document is missing")
	}
	v := &orgValidator{o: o, path: path}
	for _, step := range []func() error{
		v.identity, v.users, v.roles, v.groups, v.legacyGrants,
		v.designerGroups, v.designerRoles, v.projects, v.businessFilters,
	} {
		if err := step(); err != nil {
			return err
		}
	}
	return nil
}

// orgValidator carries the names each section defines to the later ones.
type orgValidator struct {
	o    *Org
	path string

	envs, workspaces, userIDs, usernames, orgRoles, groupNames, designerGroupNames nameSet
}

func (v *orgValidator) at(name string) string { return field(v.path, name) }

// unique adds name to s, refusing an empty or repeated one.
func unique(path, what, name string, s nameSet) error {
	if name == "" {
		return invalid(path, "%s is required", what)
	}
	if s[name] {
		return invalid(path, "duplicate %s %q", what, name)
	}
	s[name] = true
	return nil
}

func (v *orgValidator) identity() error {
	switch {
	case v.o.Org == "":
		return invalid(v.at("org"), "org id is required")
	case !orgIDPattern.MatchString(v.o.Org):
		return invalid(v.at("org"), "org id %q must match %s", v.o.Org, orgIDPattern)
	}
	v.envs = nameSet{}
	for i, e := range v.o.Environments {
		if err := unique(index(v.at("environments"), i), "environment", e, v.envs); err != nil {
			return err
		}
	}
	v.workspaces = nameSet{}
	for i, w := range v.o.Workspaces {
		if err := unique(field(index(v.at("workspaces"), i), "id"), "workspace id", w.ID, v.workspaces); err != nil {
			return err
		}
	}
	return nil
}

func (v *orgValidator) users() error {
	v.userIDs, v.usernames = nameSet{}, nameSet{}
	for i, u := range v.o.Users {
		up := index(v.at("users"), i)
		if err := unique(field(up, "id"), "user id", u.ID, v.userIDs); err != nil {
			return err
		}
		if err := unique(field(up, "username"), "username", u.Username, v.usernames); err != nil {
			return err
		}
		switch u.Status {
		case StatusInvited, StatusActive, StatusDisabled:
		default:
			return notOneOf(field(up, "status"), "status", u.Status, StatusInvited, StatusActive, StatusDisabled)
		}
	}
	return nil
}

func (v *orgValidator) roles() error {
	v.orgRoles = nameSet{}
	for i, r := range v.o.Roles {
		np := field(index(v.at("roles"), i), "name")
		if err := unique(np, "role", r.Name, v.orgRoles); err != nil {
			return err
		}
		// A catalog role named like a system role would make flow
		// permission entries ambiguous (rule 7).
		if r.Name == RoleAuthenticatedUser || r.Name == RoleNonAuthenticatedUser {
			return invalid(np, "role name %q is reserved for the system role", r.Name)
		}
	}
	return nil
}

// members checks a member list: known user ids, each once.
func (v *orgValidator) members(path string, ids []string) error {
	seen := nameSet{}
	for j, id := range ids {
		mp := index(path, j)
		if err := ref(mp, "user", id, v.userIDs); err != nil {
			return err
		}
		if seen[id] {
			return invalid(mp, "duplicate member %q", id)
		}
		seen[id] = true
	}
	return nil
}

func (v *orgValidator) groups() error {
	v.groupNames = nameSet{}
	for i, g := range v.o.Groups {
		gp := index(v.at("groups"), i)
		if !groupNamePattern.MatchString(g.Name) {
			return invalid(field(gp, "name"), "group name %q must match %s", g.Name, groupNamePattern)
		}
		if err := unique(field(gp, "name"), "group", g.Name, v.groupNames); err != nil {
			return err
		}
		if err := v.members(field(gp, "members"), g.Members); err != nil {
			return err
		}
	}
	return nil
}

func (v *orgValidator) legacyGrants() error {
	for i, g := range v.o.LegacyGrants {
		gp := index(v.at("legacy_grants"), i)
		if err := ref(field(gp, "user"), "user", g.User, v.userIDs); err != nil {
			return err
		}
		if err := ref(field(gp, "role"), "role", g.Role, v.orgRoles); err != nil {
			return err
		}
	}
	return nil
}

func (v *orgValidator) designerGroups() error {
	v.designerGroupNames = nameSet{}
	for i, g := range v.o.DesignerGroups {
		gp := index(v.at("designer_groups"), i)
		np := field(gp, "name")
		if !groupNamePattern.MatchString(g.Name) {
			return invalid(np, "designer group name %q must match %s", g.Name, groupNamePattern)
		}
		// all_users_<ws> groups are system groups: derived from workspace
		// membership, never stored or edited (rule 9).
		if isSystemGroup(g.Name) {
			return invalid(np, "designer group name %q is reserved: %s<workspace> groups are system groups", g.Name, SystemGroupPrefix)
		}
		if err := unique(np, "designer group", g.Name, v.designerGroupNames); err != nil {
			return err
		}
		if err := v.members(field(gp, "members"), g.Members); err != nil {
			return err
		}
	}
	return nil
}

func (v *orgValidator) designerRoles() error {
	projects := nameSet{}
	for _, p := range v.o.Projects {
		projects[p.ID] = p.ID != ""
	}
	owners := map[string]int{} // project -> index of its project_owner assignment
	for i, dr := range v.o.DesignerRoles {
		dp := index(v.at("designer_roles"), i)
		if err := v.designerSubject(field(dp, "subject"), dr.Subject); err != nil {
			return err
		}
		want, ok := DesignerRoleScope(dr.Role)
		if !ok {
			return notOneOf(field(dp, "role"), "designer role", dr.Role, sortedKeys(designerRoleScopes)...)
		}
		sp := field(dp, "scope")
		switch dr.Scope.Kind() {
		case "":
			return invalid(sp, "scope must name exactly one of org, workspace, project")
		case want:
		default:
			return invalid(sp, "%s needs scope %s", dr.Role, scopeShape[want])
		}
		switch want {
		case ScopeWorkspace:
			if err := ref(field(sp, "workspace"), "workspace", dr.Scope.Workspace, v.workspaces); err != nil {
				return err
			}
		case ScopeProject:
			if err := ref(field(sp, "project"), "project", dr.Scope.Project, projects); err != nil {
				return err
			}
		}
		if dr.Role == DesignerProjectOwner {
			if j, dup := owners[dr.Scope.Project]; dup {
				return invalid(field(dp, "role"), "project %q already has a project_owner (%s)",
					dr.Scope.Project, index(v.at("designer_roles"), j))
			}
			owners[dr.Scope.Project] = i
		}
	}
	return nil
}

// scopeShape shows the scope each kind of designer role needs, for messages.
var scopeShape = map[string]string{
	ScopeOrg:       `{"org": true}`,
	ScopeWorkspace: `{"workspace": "<workspace id>"}`,
	ScopeProject:   `{"project": "<project id>"}`,
}

// designerSubject: a known user, a designer group, or the system group of a
// known workspace.
func (v *orgValidator) designerSubject(path string, s Subject) error {
	if (s.User == "") == (s.Group == "") {
		return invalid(path, "subject must name exactly one of user, group")
	}
	if s.User != "" {
		return ref(field(path, "user"), "user", s.User, v.userIDs)
	}
	if ws, ok := strings.CutPrefix(s.Group, SystemGroupPrefix); ok {
		if !v.workspaces[ws] {
			return invalid(field(path, "group"), "system group %q names unknown workspace %q", s.Group, ws)
		}
		return nil
	}
	return ref(field(path, "group"), "designer group", s.Group, v.designerGroupNames)
}

func (v *orgValidator) businessFilters() error {
	ids := nameSet{}
	for i, f := range v.o.BusinessFilters {
		fp := index(v.at("business_filters"), i)
		if err := unique(field(fp, "id"), "business filter id", f.ID, ids); err != nil {
			return err
		}
		if f.Field == "" {
			return invalid(field(fp, "field"), "field is required")
		}
		if f.Attribute == "" {
			return invalid(field(fp, "attribute"), "attribute is required")
		}
	}
	return nil
}

// notOneOf refuses value at path, listing the allowed values in the
// message and in Allowed, so a client can offer them.
func notOneOf(path, what, value string, allowed ...string) error {
	e := verr.New(verr.Invalid, path, "%s %q must be one of %s", what, value, strings.Join(allowed, ", "))
	e.Allowed = allowed
	return e
}

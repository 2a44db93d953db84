package orgdoc

import (
	"strings"

	"github.com/verdict-pdp/verdict/internal/verr"
)

// names is a set of names. Validate keeps them in maps (nameSet); a
// streamed document keeps user ids and usernames, as many as users, in a
// compact strSet.
type names interface {
	has(name string) bool
	add(name string)
}

// nameSet is a set of names.
type nameSet map[string]bool

func (s nameSet) has(name string) bool { return s[name] }
func (s nameSet) add(name string)      { s[name] = true }

// invalid is the one way validation reports a broken rule.
func invalid(path, format string, args ...any) error {
	return verr.New(verr.Invalid, path, format, args...)
}

// ref checks that name is non-empty and in known; what names the kind of
// thing referenced ("user", "role") for the message.
func ref(path, what, name string, known names) error {
	if name == "" {
		return invalid(path, "%s is required", what)
	}
	if !known.has(name) {
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
//
// The checks of one element (a user, a group, a project...) are methods of
// orgValidator of their own, so that a streamed document (Stream.Decode)
// runs exactly these rules element by element.
func (o *Org) Validate(path string) error {
	if o == nil {
		return invalid(path, "org document is missing")
	}
	v := newValidator(o, path, nameSet{}, nameSet{})
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
	o    *Org // Validate: the whole org; Stream.Decode: its identity only
	path string

	envs, workspaces, orgRoles, groupNames, designerGroupNames nameSet
	userIDs, usernames                                         names
}

func newValidator(o *Org, path string, userIDs, usernames names) *orgValidator {
	return &orgValidator{o: o, path: path, userIDs: userIDs, usernames: usernames,
		envs: nameSet{}, workspaces: nameSet{}, orgRoles: nameSet{}, groupNames: nameSet{}, designerGroupNames: nameSet{}}
}

func (v *orgValidator) at(name string) string { return field(v.path, name) }

// unique adds name to s, refusing an empty or repeated one.
func unique(path, what, name string, s names) error {
	if name == "" {
		return invalid(path, "%s is required", what)
	}
	if s.has(name) {
		return invalid(path, "duplicate %s %q", what, name)
	}
	s.add(name)
	return nil
}

func (v *orgValidator) identity() error {
	switch {
	case v.o.Org == "":
		return invalid(v.at("org"), "org id is required")
	case !orgIDPattern.MatchString(v.o.Org):
		return invalid(v.at("org"), "org id %q must match %s", v.o.Org, orgIDPattern)
	}
	for i, e := range v.o.Environments {
		if err := unique(index(v.at("environments"), i), "environment", e, v.envs); err != nil {
			return err
		}
	}
	for i, w := range v.o.Workspaces {
		if err := unique(field(index(v.at("workspaces"), i), "id"), "workspace id", w.ID, v.workspaces); err != nil {
			return err
		}
	}
	return nil
}

func (v *orgValidator) users() error {
	for i := range v.o.Users {
		if err := v.user(index(v.at("users"), i), &v.o.Users[i]); err != nil {
			return err
		}
	}
	return nil
}

// user checks users[i] (at up).
func (v *orgValidator) user(up string, u *User) error {
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
	return nil
}

func (v *orgValidator) roles() error {
	for i := range v.o.Roles {
		if err := v.role(index(v.at("roles"), i), &v.o.Roles[i]); err != nil {
			return err
		}
	}
	return nil
}

// role checks roles[i] (at rp).
func (v *orgValidator) role(rp string, r *Role) error {
	np := field(rp, "name")
	if err := unique(np, "role", r.Name, v.orgRoles); err != nil {
		return err
	}
	// A catalog role named like a system role would make flow
	// permission entries ambiguous (rule 7).
	if r.Name == RoleAuthenticatedUser || r.Name == RoleNonAuthenticatedUser {
		return invalid(np, "role name %q is reserved for the system role", r.Name)
	}
	return nil
}

// members checks a member list: known user ids, each once.
func (v *orgValidator) members(path string, ids []string) error {
	seen := nameSet{}
	for j, id := range ids {
		if err := v.member(path, j, id, seen); err != nil {
			return err
		}
	}
	return nil
}

// member checks entry j of the member list at path (a known user id, not in
// seen yet) and adds it to seen. The path of the entry is only rendered for
// an error: a streamed group may have a million members.
func (v *orgValidator) member(path string, j int, id string, seen names) error {
	if id == "" || !v.userIDs.has(id) {
		return ref(index(path, j), "user", id, v.userIDs)
	}
	if seen.has(id) {
		return invalid(index(path, j), "duplicate member %q", id)
	}
	seen.add(id)
	return nil
}

func (v *orgValidator) groups() error {
	for i, g := range v.o.Groups {
		gp := index(v.at("groups"), i)
		if err := v.groupName(gp, g.Name); err != nil {
			return err
		}
		if err := v.members(field(gp, "members"), g.Members); err != nil {
			return err
		}
	}
	return nil
}

// groupName checks the name of the group at gp; its members are checked
// after it.
func (v *orgValidator) groupName(gp, name string) error {
	if !groupNamePattern.MatchString(name) {
		return invalid(field(gp, "name"), "group name %q must match %s", name, groupNamePattern)
	}
	return unique(field(gp, "name"), "group", name, v.groupNames)
}

func (v *orgValidator) legacyGrants() error {
	for i := range v.o.LegacyGrants {
		if err := v.legacyGrant(index(v.at("legacy_grants"), i), &v.o.LegacyGrants[i]); err != nil {
			return err
		}
	}
	return nil
}

// legacyGrant checks legacy_grants[i] (at gp).
func (v *orgValidator) legacyGrant(gp string, g *LegacyGrant) error {
	if err := ref(field(gp, "user"), "user", g.User, v.userIDs); err != nil {
		return err
	}
	return ref(field(gp, "role"), "role", g.Role, v.orgRoles)
}

func (v *orgValidator) designerGroups() error {
	for i, g := range v.o.DesignerGroups {
		gp := index(v.at("designer_groups"), i)
		if err := v.designerGroupName(gp, g.Name); err != nil {
			return err
		}
		if err := v.members(field(gp, "members"), g.Members); err != nil {
			return err
		}
	}
	return nil
}

// designerGroupName checks the name of the designer group at gp; its
// members are checked after it.
func (v *orgValidator) designerGroupName(gp, name string) error {
	np := field(gp, "name")
	if !groupNamePattern.MatchString(name) {
		return invalid(np, "designer group name %q must match %s", name, groupNamePattern)
	}
	// all_users_<ws> groups are system groups: derived from workspace
	// membership, never stored or edited (rule 9).
	if isSystemGroup(name) {
		return invalid(np, "designer group name %q is reserved: %s<workspace> groups are system groups", name, SystemGroupPrefix)
	}
	return unique(np, "designer group", name, v.designerGroupNames)
}

func (v *orgValidator) designerRoles() error {
	projects := nameSet{}
	for _, p := range v.o.Projects {
		projects[p.ID] = p.ID != ""
	}
	owners := map[string]int{}
	for i := range v.o.DesignerRoles {
		if err := v.designerRole(i, &v.o.DesignerRoles[i], projects, owners); err != nil {
			return err
		}
	}
	return nil
}

// designerRole checks designer_roles[i]. projects holds the org's project
// ids (all of them: a designer role may name a project listed after it);
// owners maps a project to the index of its project_owner assignment.
func (v *orgValidator) designerRole(i int, dr *DesignerRole, projects nameSet, owners map[string]int) error {
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
	for i := range v.o.BusinessFilters {
		if err := v.businessFilter(index(v.at("business_filters"), i), &v.o.BusinessFilters[i], ids); err != nil {
			return err
		}
	}
	return nil
}

// businessFilter checks business_filters[i] (at fp); ids holds the ids of
// the filters before it.
func (v *orgValidator) businessFilter(fp string, f *BusinessFilter, ids nameSet) error {
	if err := unique(field(fp, "id"), "business filter id", f.ID, ids); err != nil {
		return err
	}
	if f.Field == "" {
		return invalid(field(fp, "field"), "field is required")
	}
	if f.Attribute == "" {
		return invalid(field(fp, "attribute"), "attribute is required")
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

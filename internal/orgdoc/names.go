package orgdoc

import (
	"regexp"
	"strings"
)

// Name rules of DESIGN.md §1.
var (
	orgIDPattern     = regexp.MustCompile(OrgIDRule)
	groupNamePattern = regexp.MustCompile(`^[A-Za-z0-9 _-]{1,64}$`)
)

// OrgIDRule is the org id rule of DESIGN.md §1, for messages. The org id
// becomes part of Redis keys (and of their hash tag) and of bundle paths, so
// every door (documents, decisions, admin, bundles) checks it with ValidOrgID.
const OrgIDRule = `^[a-z0-9][a-z0-9_-]{0,62}$`

// ValidOrgID reports whether s is a well-formed org id (OrgIDRule).
func ValidOrgID(s string) bool { return orgIDPattern.MatchString(s) }

// System roles of automation flow permissions (DESIGN.md §2 rule 7).
const (
	RoleAuthenticatedUser    = "AuthenticatedUser"
	RoleNonAuthenticatedUser = "NonAuthenticatedUser"
)

// Values of a flow permission entry (DESIGN.md §2 rule 7).
const (
	FlowGrant = "grant"
	FlowDeny  = "deny"
)

// SystemGroupPrefix starts the name of every workspace's system designer
// group, all_users_<workspace id> (DESIGN.md §2 rule 9).
const SystemGroupPrefix = "all_users_"

// SystemGroup returns the name of workspace ws's system designer group.
func SystemGroup(ws string) string { return SystemGroupPrefix + ws }

// Designer (design-time) roles (DESIGN.md §1, seed 003).
const (
	DesignerOrgOwner               = "org_owner"
	DesignerOrgAdmin               = "org_admin"
	DesignerWorkspaceAdmin         = "workspace_admin"
	DesignerWorkspaceUser          = "workspace_user"
	DesignerThemeEditor            = "theme_editor"
	DesignerWorkspaceRuntimeEditor = "workspace_runtime_editor"
	DesignerProjectOwner           = "project_owner"
	DesignerProjectEditor          = "project_editor"
	DesignerProjectViewer          = "project_viewer"
)

// Scope kinds a designer role is given on.
const (
	ScopeOrg       = "org"
	ScopeWorkspace = "workspace"
	ScopeProject   = "project"
)

// designerRoleScopes maps each designer role to the one scope kind it fits.
var designerRoleScopes = map[string]string{
	DesignerOrgOwner:               ScopeOrg,
	DesignerOrgAdmin:               ScopeOrg,
	DesignerWorkspaceAdmin:         ScopeWorkspace,
	DesignerWorkspaceUser:          ScopeWorkspace,
	DesignerThemeEditor:            ScopeWorkspace,
	DesignerWorkspaceRuntimeEditor: ScopeWorkspace,
	DesignerProjectOwner:           ScopeProject,
	DesignerProjectEditor:          ScopeProject,
	DesignerProjectViewer:          ScopeProject,
}

// DesignerRoleScope returns the scope kind (ScopeOrg, ScopeWorkspace or
// ScopeProject) designer role r is given on, and false for an unknown role.
func DesignerRoleScope(r string) (string, bool) {
	s, ok := designerRoleScopes[r]
	return s, ok
}

// Kind returns the scope kind s names ("" unless exactly one is set).
func (s Scope) Kind() string {
	n, kind := 0, ""
	if s.Org {
		n, kind = n+1, ScopeOrg
	}
	if s.Workspace != "" {
		n, kind = n+1, ScopeWorkspace
	}
	if s.Project != "" {
		n, kind = n+1, ScopeProject
	}
	if n != 1 {
		return ""
	}
	return kind
}

// isSystemGroup reports whether name is reserved for a workspace system group.
func isSystemGroup(name string) bool { return strings.HasPrefix(name, SystemGroupPrefix) }

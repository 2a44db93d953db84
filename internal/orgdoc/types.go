// Package orgdoc defines the organization document (DESIGN.md §4): the
// import/export format of the admin API, the backup format, the data snapshot
// inside an edge bundle and the fixture format of tests, together with the
// decision corpus that wraps org documents.
//
// Decode functions are strict: an unknown field, a wrong type or a broken rule
// is refused with the JSON path at fault (a *verr.Error). A decoded value is
// owned by the caller; nothing here keeps or shares it.
package orgdoc

import "encoding/json"

// Org is one organization's facts.
type Org struct {
	Org             string           `json:"org"`
	Environments    []string         `json:"environments,omitempty"`
	Workspaces      []Workspace      `json:"workspaces,omitempty"`
	Users           []User           `json:"users,omitempty"`
	Roles           []Role           `json:"roles,omitempty"`
	Groups          []Group          `json:"groups,omitempty"`
	LegacyGrants    []LegacyGrant    `json:"legacy_grants,omitempty"`
	DesignerGroups  []DesignerGroup  `json:"designer_groups,omitempty"`
	DesignerRoles   []DesignerRole   `json:"designer_roles,omitempty"`
	Projects        []Project        `json:"projects,omitempty"`
	BusinessFilters []BusinessFilter `json:"business_filters,omitempty"`
}

// Workspace is a design-time workspace; its system group is all_users_<id>.
type Workspace struct {
	ID string `json:"id"`
}

// User is an end user (or a service account) of the organization.
type User struct {
	ID             string              `json:"id"`
	Username       string              `json:"username"`
	Email          string              `json:"email,omitempty"`
	Status         string              `json:"status"`
	DesignerUser   bool                `json:"designer_user,omitempty"`
	Attributes     map[string][]string `json:"attributes,omitempty"`
	ServiceAccount bool                `json:"service_account,omitempty"`
	LastSeen       string              `json:"last_seen,omitempty"`
}

// User statuses.
const (
	StatusInvited  = "invited"
	StatusActive   = "active"
	StatusDisabled = "disabled"
)

// Role is an entry of the org-wide runtime role catalog.
type Role struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
}

// Group is an org-level bucket of end users.
type Group struct {
	Name       string              `json:"name"`
	Members    []string            `json:"members,omitempty"`
	Attributes map[string][]string `json:"attributes,omitempty"`
}

// LegacyGrant is a 5.1-era org-level user -> role assignment kept after upgrade.
type LegacyGrant struct {
	User string `json:"user"`
	Role string `json:"role"`
}

// DesignerGroup is a design-time group of users.
type DesignerGroup struct {
	Name    string   `json:"name"`
	Members []string `json:"members,omitempty"`
}

// DesignerRole assigns a design-time role to a user or designer group on a scope.
type DesignerRole struct {
	Subject Subject `json:"subject"`
	Role    string  `json:"role"`
	Scope   Scope   `json:"scope"`
}

// Subject names exactly one of a user (by id) or a group (by name).
type Subject struct {
	User  string `json:"user,omitempty"`
	Group string `json:"group,omitempty"`
}

// Scope names exactly one of the org, a workspace or a project.
type Scope struct {
	Org       bool   `json:"org,omitempty"`
	Workspace string `json:"workspace,omitempty"`
	Project   string `json:"project,omitempty"`
}

// Project (a solution) with its immutable builds and per-environment settings.
type Project struct {
	ID              string                  `json:"id"`
	Workspace       string                  `json:"workspace"`
	Builds          []Build                 `json:"builds,omitempty"`
	Environments    map[string]*Environment `json:"environments,omitempty"`
	FlowPermissions *FlowPermissions        `json:"flow_permissions,omitempty"`
}

// Build is an immutable build of a project: its role catalog, UI flows and processes.
type Build struct {
	ID        string    `json:"id"`
	Branch    string    `json:"branch"`
	Created   string    `json:"created"`
	Roles     []string  `json:"roles"`
	UIFlows   []UIFlow  `json:"ui_flows"`
	Processes []Process `json:"processes"`
}

// UIFlow is a UI flow of a build with its role allow-list and component rules.
type UIFlow struct {
	ID         string               `json:"id"`
	Roles      []string             `json:"roles"`
	Components map[string]Component `json:"components,omitempty"`
}

// Component rules: roles for which the component is hidden or disabled.
type Component struct {
	HiddenFor   []string `json:"hidden_for,omitempty"`
	DisabledFor []string `json:"disabled_for,omitempty"`
}

// Process of a build: the roles that may start it and its swimlanes
// (swimlane -> role -> subset of view, execute, self_assign).
type Process struct {
	ID        string                         `json:"id"`
	Roles     []string                       `json:"roles"`
	Swimlanes map[string]map[string][]string `json:"swimlanes,omitempty"`
}

// Swimlane rights.
var SwimlaneRights = []string{"view", "execute", "self_assign"}

// Environment holds a project's active policy and shares in one environment.
type Environment struct {
	ActivePolicy *ActivePolicy `json:"active_policy,omitempty"`
	Shares       []Share       `json:"shares"`
}

// ActivePolicy chooses the build served: overrides first, then the default.
type ActivePolicy struct {
	Default   Policy     `json:"default"`
	Overrides []Override `json:"overrides"`
}

// Policy names exactly one of a build or the newest build on a branch.
type Policy struct {
	Build          string `json:"build,omitempty"`
	LatestOnBranch string `json:"latest_on_branch,omitempty"`
}

// Override types.
const (
	OverrideUsername = "username"
	OverrideGroup    = "group"
	OverrideRole     = "role" // deprecated: kept and listed, never used
)

// Override of the active policy for a username, a group or (deprecated) a role.
type Override struct {
	Type     string `json:"type"`
	Username string `json:"username,omitempty"`
	Group    string `json:"group,omitempty"`
	Role     string `json:"role,omitempty"`
	Priority *int   `json:"priority,omitempty"`
	Policy   Policy `json:"policy"`
}

// Share gives roles to a user or group on (project, environment).
type Share struct {
	Subject Subject  `json:"subject"`
	Roles   []string `json:"roles"`
}

// FlowPermissions of a project's automation flows: app-wide defaults and
// per-flow entries, each users/roles -> "grant" or "deny".
type FlowPermissions struct {
	Defaults *FlowEntries           `json:"defaults,omitempty"`
	Flows    map[string]FlowEntries `json:"flows,omitempty"`
}

// FlowEntries maps user ids and role names to "grant" or "deny".
type FlowEntries struct {
	Users map[string]string `json:"users,omitempty"`
	Roles map[string]string `json:"roles,omitempty"`
}

// BusinessFilter names a record field and the attribute key whose values it allows.
type BusinessFilter struct {
	ID        string `json:"id"`
	Field     string `json:"field"`
	Attribute string `json:"attribute"`
}

// Corpus is a decision corpus (DESIGN.md §4): org documents, evaluations and filters.
type Corpus struct {
	Description string       `json:"description,omitempty"`
	Orgs        []Org        `json:"orgs"`
	Evaluations []Evaluation `json:"evaluations,omitempty"`
	Filters     []FilterCase `json:"filters,omitempty"`
}

// Evaluation is one expected decision.
type Evaluation struct {
	Name     string          `json:"name"`
	Request  json.RawMessage `json:"request"`
	Expected Expected        `json:"expected"`
}

// Expected: decision must equal; each key under context must equal.
type Expected struct {
	Decision bool           `json:"decision"`
	Context  map[string]any `json:"context,omitempty"`
}

// FilterCase is one expected business filter answer.
type FilterCase struct {
	Name     string          `json:"name"`
	Filter   FilterRequest   `json:"filter"`
	Expected json.RawMessage `json:"expected"`
}

// FilterRequest asks for the condition of filter Filter for user User of Org.
type FilterRequest struct {
	Org    string `json:"org"`
	User   string `json:"user"`
	Filter string `json:"filter"`
}

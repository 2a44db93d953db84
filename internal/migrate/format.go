package migrate

import (
	"regexp"
	"slices"
	"strconv"
	"time"

	"github.com/verdict-pdp/verdict/internal/orgdoc"
	"github.com/verdict-pdp/verdict/internal/verr"
)

// Format is the value of Export.Format.
const Format = "flowx-5.1-runtime"

// Export is a 5.1.x runtime export (docs/migration.md): the IdP's users with
// their org-level roles, its groups with members and roles, the role
// catalog, and each project's builds and per-environment active policy with
// its username and role overrides. Designer access (SpiceDB, unchanged by
// the upgrade), automation-flow permissions and business filters are carried
// over as they are, in the org document's own shapes.
type Export struct {
	Format          string                  `json:"format"`
	Org             string                  `json:"org"`
	ExportedAt      string                  `json:"exported_at,omitempty"`
	Environments    []string                `json:"environments"`
	Workspaces      []orgdoc.Workspace      `json:"workspaces,omitempty"`
	Users           []User                  `json:"users"`
	Roles           []orgdoc.Role           `json:"roles"`
	Groups          []Group                 `json:"groups,omitempty"`
	DesignerGroups  []orgdoc.DesignerGroup  `json:"designer_groups,omitempty"`
	DesignerRoles   []orgdoc.DesignerRole   `json:"designer_roles,omitempty"`
	Projects        []Project               `json:"projects,omitempty"`
	BusinessFilters []orgdoc.BusinessFilter `json:"business_filters,omitempty"`
}

// User is an IdP (Keycloak) user with its org-level runtime roles.
type User struct {
	ID       string `json:"id"`
	Username string `json:"username"`
	Email    string `json:"email,omitempty"`
	// Enabled is Keycloak's flag: a disabled user had nothing.
	Enabled bool `json:"enabled"`
	// EmailVerified is Keycloak's emailVerified: the user completed an
	// invitation (or verification) email. The others are created by the
	// migration without one and must be invited (the checklist says so).
	EmailVerified  bool                `json:"email_verified,omitempty"`
	DesignerUser   bool                `json:"designer_user,omitempty"`
	ServiceAccount bool                `json:"service_account,omitempty"`
	Attributes     map[string][]string `json:"attributes,omitempty"`
	// Roles assigned to the user directly, at org level: each granted access
	// on every project that listed it.
	Roles []string `json:"roles,omitempty"`
	// LastLogin (RFC 3339) becomes last_seen, for inactive-user reviews.
	LastLogin string `json:"last_login,omitempty"`
}

// Group is an IdP group: its members held its roles at org level.
type Group struct {
	Name       string              `json:"name"`
	Members    []string            `json:"members,omitempty"`
	Roles      []string            `json:"roles,omitempty"`
	Attributes map[string][]string `json:"attributes,omitempty"`
}

// Project is a project with its builds and per-environment runtime settings.
type Project struct {
	ID              string                  `json:"id"`
	Workspace       string                  `json:"workspace"`
	Builds          []Build                 `json:"builds,omitempty"`
	Environments    map[string]*Environment `json:"environments,omitempty"`
	FlowPermissions *orgdoc.FlowPermissions `json:"flow_permissions,omitempty"`
}

// Build is an immutable build. Its UI flows may have no role list (every
// 5.1.x flow): they get the project-level User role.
type Build struct {
	ID        string           `json:"id"`
	Branch    string           `json:"branch"`
	Created   string           `json:"created"`
	Roles     []string         `json:"roles"`
	UIFlows   []UIFlow         `json:"ui_flows"`
	Processes []orgdoc.Process `json:"processes"`
}

// UIFlow is a UI flow of a build. Roles is nil when the flow has no
// allow-list (anyone with access to the project could launch it); a list
// exported by a designer that already records one is kept as it is.
type UIFlow struct {
	ID         string                      `json:"id"`
	Roles      *[]string                   `json:"roles,omitempty"`
	Components map[string]orgdoc.Component `json:"components,omitempty"`
}

// Environment is a project's runtime settings in one environment: the
// active policy and its overrides (Runtime Settings -> Active Policy).
type Environment struct {
	ActivePolicy      *Policy            `json:"active_policy,omitempty"`
	UsernameOverrides []UsernameOverride `json:"username_overrides,omitempty"`
	RoleOverrides     []RoleOverride     `json:"role_overrides,omitempty"`
}

// Policy types of the 5.1 Active Policy page.
const (
	PolicyBuild          = "build"
	PolicyLatestOnBranch = "latest_on_branch"
)

// Policy is a 5.1 policy: a policy type and its build or branch.
type Policy struct {
	PolicyType string `json:"policy_type"`
	Build      string `json:"build,omitempty"`
	Branch     string `json:"branch,omitempty"`
}

// UsernameOverride serves a policy to one username.
type UsernameOverride struct {
	Username   string `json:"username"`
	PolicyType string `json:"policy_type"`
	Build      string `json:"build,omitempty"`
	Branch     string `json:"branch,omitempty"`
}

// Policy is the override's policy.
func (o UsernameOverride) Policy() Policy { return Policy{o.PolicyType, o.Build, o.Branch} }

// RoleOverride serves a policy to the holders of a role; among a user's
// roles the lowest priority number wins.
type RoleOverride struct {
	Role       string `json:"role"`
	Priority   int    `json:"priority"`
	PolicyType string `json:"policy_type"`
	Build      string `json:"build,omitempty"`
	Branch     string `json:"branch,omitempty"`
}

// Policy is the override's policy.
func (o RoleOverride) Policy() Policy { return Policy{o.PolicyType, o.Build, o.Branch} }

// orgPolicy is the org document's form of a 5.1 policy.
func (p Policy) orgPolicy() orgdoc.Policy {
	if p.PolicyType == PolicyBuild {
		return orgdoc.Policy{Build: p.Build}
	}
	return orgdoc.Policy{LatestOnBranch: p.Branch}
}

func (p Policy) String() string {
	if p.PolicyType == PolicyBuild {
		return "build " + p.Build
	}
	return "latest on branch " + p.Branch
}

// Decode decodes and checks a 5.1 export. Every failure is a *verr.Error
// naming the JSON path at fault in the export: InvalidInput for malformed
// JSON, an unknown field or a wrong type, Invalid for a broken rule.
func Decode(data []byte) (*Export, error) {
	var e Export
	if err := orgdoc.DecodeStrict(data, &e); err != nil {
		return nil, err
	}
	if err := e.Validate(); err != nil {
		return nil, err
	}
	return &e, nil
}

var orgIDPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

func invalid(path, format string, args ...any) error {
	return verr.New(verr.Invalid, path, format, args...)
}

func at(path string, i int) string { return path + "[" + strconv.Itoa(i) + "]" }

// Validate checks the rules of the 5.1 parts of the export: references
// between users, groups, roles, builds and environments. What is carried
// over unchanged (builds' contents, designer access, flow permissions,
// business filters) is checked by the org document's own validation after
// conversion, at the same paths.
func (e *Export) Validate() error {
	if e.Format != Format {
		return invalid("format", "format must be %q, not %q", Format, e.Format)
	}
	if !orgIDPattern.MatchString(e.Org) {
		return invalid("org", "org id %q must match %s", e.Org, orgIDPattern)
	}
	if e.ExportedAt != "" {
		if _, err := time.Parse(time.RFC3339, e.ExportedAt); err != nil {
			return invalid("exported_at", "must be an RFC 3339 time")
		}
	}
	envs := map[string]bool{}
	for i, n := range e.Environments {
		if n == "" || envs[n] {
			return invalid(at("environments", i), "environment names must be unique and not empty")
		}
		envs[n] = true
	}
	roles := map[string]bool{}
	for i, r := range e.Roles {
		if r.Name == "" || roles[r.Name] {
			return invalid(at("roles", i)+".name", "role names must be unique and not empty")
		}
		roles[r.Name] = true
	}
	users, usernames := map[string]bool{}, map[string]bool{}
	for i, u := range e.Users {
		p := at("users", i)
		switch {
		case u.ID == "" || users[u.ID]:
			return invalid(p+".id", "user ids must be unique and not empty")
		case u.Username == "" || usernames[u.Username]:
			return invalid(p+".username", "usernames must be unique and not empty")
		}
		if u.LastLogin != "" {
			if _, err := time.Parse(time.RFC3339, u.LastLogin); err != nil {
				return invalid(p+".last_login", "must be an RFC 3339 time")
			}
		}
		users[u.ID], usernames[u.Username] = true, true
		if err := knownRoles(p+".roles", u.Roles, roles); err != nil {
			return err
		}
	}
	groups := map[string]bool{}
	for i, g := range e.Groups {
		p := at("groups", i)
		if groups[g.Name] {
			return invalid(p+".name", "duplicate group %q", g.Name)
		}
		groups[g.Name] = true
		for j, m := range g.Members {
			if !users[m] {
				return invalid(at(p+".members", j), "unknown user %q", m)
			}
		}
		if err := knownRoles(p+".roles", g.Roles, roles); err != nil {
			return err
		}
	}
	for i := range e.Projects {
		if err := e.Projects[i].validate(at("projects", i), envs, roles, usernames); err != nil {
			return err
		}
	}
	return nil
}

func knownRoles(path string, list []string, roles map[string]bool) error {
	seen := map[string]bool{}
	for j, r := range list {
		if !roles[r] {
			return invalid(at(path, j), "unknown role %q", r)
		}
		if seen[r] {
			return invalid(at(path, j), "duplicate role %q", r)
		}
		seen[r] = true
	}
	return nil
}

func (p *Project) validate(path string, envs, roles, usernames map[string]bool) error {
	builds := map[string]bool{}
	for j, b := range p.Builds {
		if b.ID == "" || builds[b.ID] {
			return invalid(at(path+".builds", j)+".id", "build ids must be unique and not empty")
		}
		builds[b.ID] = true
	}
	for _, name := range sortedKeys(p.Environments) {
		ep := path + ".environments." + name
		if !envs[name] {
			return invalid(ep, "environment %q is not one of the org's environments", name)
		}
		env := p.Environments[name]
		if env == nil {
			return invalid(ep, "must be an object")
		}
		if env.ActivePolicy != nil {
			if err := env.ActivePolicy.validate(ep+".active_policy", builds); err != nil {
				return err
			}
		}
		seen := map[string]bool{}
		for k, o := range env.UsernameOverrides {
			op := at(ep+".username_overrides", k)
			if !usernames[o.Username] {
				return invalid(op+".username", "unknown username %q", o.Username)
			}
			if seen[o.Username] {
				return invalid(op+".username", "a second override for username %q", o.Username)
			}
			seen[o.Username] = true
			if err := o.Policy().validate(op, builds); err != nil {
				return err
			}
		}
		seenRole := map[string]bool{}
		for k, o := range env.RoleOverrides {
			op := at(ep+".role_overrides", k)
			if !roles[o.Role] {
				return invalid(op+".role", "unknown role %q", o.Role)
			}
			if seenRole[o.Role] {
				return invalid(op+".role", "a second override for role %q", o.Role)
			}
			seenRole[o.Role] = true
			if err := o.Policy().validate(op, builds); err != nil {
				return err
			}
		}
		if (len(env.UsernameOverrides) > 0 || len(env.RoleOverrides) > 0) && env.ActivePolicy == nil {
			return invalid(ep+".active_policy", "overrides need an active policy")
		}
	}
	return nil
}

func (p Policy) validate(path string, builds map[string]bool) error {
	switch p.PolicyType {
	case PolicyBuild:
		if p.Branch != "" {
			return invalid(path+".branch", "a build policy names a build, not a branch")
		}
		if !builds[p.Build] {
			return invalid(path+".build", "unknown build %q", p.Build)
		}
	case PolicyLatestOnBranch:
		if p.Build != "" {
			return invalid(path+".build", "a latest_on_branch policy names a branch, not a build")
		}
		if p.Branch == "" {
			return invalid(path+".branch", "branch is required")
		}
	default:
		e := verr.New(verr.Invalid, path+".policy_type", "policy_type %q must be one of %s, %s", p.PolicyType, PolicyBuild, PolicyLatestOnBranch)
		e.Allowed = []string{PolicyBuild, PolicyLatestOnBranch}
		return e
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

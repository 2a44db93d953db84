package migrate

import (
	"slices"
	"time"
)

// Model51 is a plain reading of the 5.1 runtime rules over an export, the
// "before" side of a migration's replay (docs/migration.md, "The 5.1
// reading"):
//
//   - Only an enabled user has anything.
//   - A user's roles are org-level: those assigned to it directly and those
//     of its IdP groups.
//   - The build served on (project, environment): a username override for
//     the user wins; else, among the role overrides of roles the user
//     holds, the lowest priority number (ties: the first role by name); else
//     the default. latest_on_branch is the build of the branch created last
//     (ties: the greatest build id). No active policy, or a policy that names
//     no build, serves nothing.
//   - One role grants access on every project whose served build lists it:
//     the user's project roles are its roles that the served build lists, and
//     it has access when it has at least one.
//   - A UI flow with no role list is launched by anyone with access; one with
//     a list needs a project role on it. A process is started with a project
//     role on its list; swimlane rights are the union over project roles.
//
// A Model51 is immutable after NewModel51 and safe for concurrent use.
type Model51 struct {
	exp        *Export
	users      map[string]*User
	roles      map[string]map[string]bool // user id -> org-level roles
	projects   map[string]*Project
	byUsername map[string]string
}

// NewModel51 indexes an export (validated by Decode).
func NewModel51(e *Export) *Model51 {
	m := &Model51{exp: e, users: map[string]*User{}, roles: map[string]map[string]bool{},
		projects: map[string]*Project{}, byUsername: map[string]string{}}
	for i := range e.Users {
		u := &e.Users[i]
		m.users[u.ID] = u
		m.byUsername[u.Username] = u.ID
		rs := map[string]bool{}
		for _, r := range u.Roles {
			rs[r] = true
		}
		m.roles[u.ID] = rs
	}
	for _, g := range e.Groups {
		for _, id := range g.Members {
			for _, r := range g.Roles {
				m.roles[id][r] = true
			}
		}
	}
	for i := range e.Projects {
		m.projects[e.Projects[i].ID] = &e.Projects[i]
	}
	return m
}

// HoldsRole says whether user id held role at org level.
func (m *Model51) HoldsRole(id, role string) bool { return m.roles[id][role] }

// Holders lists the users holding role at org level, in export order.
func (m *Model51) Holders(role string) []string {
	var out []string
	for _, u := range m.exp.Users {
		if m.roles[u.ID][role] {
			out = append(out, u.ID)
		}
	}
	return out
}

// Served is what the 5.1 active policy served a user on (project, env).
type Served struct {
	Build *Build // nil: nothing served
	// Rule is "username_override", "role_override" or "default" ("" when
	// nothing is served).
	Rule string
	// Role is the role of the role override that chose the build.
	Role string
}

// Served returns the build user id was served on (project, env).
func (m *Model51) Served(id, project, env string) Served {
	p, u := m.projects[project], m.users[id]
	if p == nil || u == nil {
		return Served{}
	}
	e := p.Environments[env]
	if e == nil || e.ActivePolicy == nil {
		return Served{}
	}
	for _, o := range e.UsernameOverrides {
		if o.Username == u.Username {
			return Served{Build: p.build(o.Policy()), Rule: "username_override"}
		}
	}
	var best *RoleOverride
	for i := range e.RoleOverrides {
		o := &e.RoleOverrides[i]
		if !m.roles[id][o.Role] {
			continue
		}
		if best == nil || o.Priority < best.Priority || (o.Priority == best.Priority && o.Role < best.Role) {
			best = o
		}
	}
	if best != nil {
		return Served{Build: p.build(best.Policy()), Rule: "role_override", Role: best.Role}
	}
	return Served{Build: p.build(*e.ActivePolicy), Rule: "default"}
}

// build returns the build a policy names (nil when none).
func (p *Project) build(pol Policy) *Build {
	if pol.PolicyType == PolicyBuild {
		for i := range p.Builds {
			if p.Builds[i].ID == pol.Build {
				return &p.Builds[i]
			}
		}
		return nil
	}
	var best *Build
	var bestT time.Time
	for i := range p.Builds {
		b := &p.Builds[i]
		if b.Branch != pol.Branch {
			continue
		}
		t, _ := time.Parse(time.RFC3339, b.Created)
		if best == nil || t.After(bestT) || (t.Equal(bestT) && b.ID > best.ID) {
			best, bestT = b, t
		}
	}
	return best
}

// ProjectRoles returns user id's roles on (project, env) under the served
// build, sorted: its org-level roles that the build lists. Nothing for a
// disabled or unknown user.
func (m *Model51) ProjectRoles(id, project, env string) []string {
	u := m.users[id]
	if u == nil || !u.Enabled {
		return nil
	}
	s := m.Served(id, project, env)
	if s.Build == nil {
		return nil
	}
	var out []string
	for _, r := range s.Build.Roles {
		if m.roles[id][r] {
			out = append(out, r)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Access says whether user id could run project in env.
func (m *Model51) Access(id, project, env string) bool {
	return len(m.ProjectRoles(id, project, env)) > 0
}

// HadAccess says whether user id could run any project in any environment.
func (m *Model51) HadAccess(id string) bool {
	for _, p := range m.exp.Projects {
		for env := range p.Environments {
			if m.Access(id, p.ID, env) {
				return true
			}
		}
	}
	return false
}

// Launch says whether user id could launch UI flow flow of the build served
// on (project, env).
func (m *Model51) Launch(id, project, env, flow string) bool {
	roles := m.ProjectRoles(id, project, env)
	if len(roles) == 0 {
		return false
	}
	for _, f := range m.Served(id, project, env).Build.UIFlows {
		if f.ID == flow {
			return f.Roles == nil || intersects(roles, *f.Roles)
		}
	}
	return false
}

// Start says whether user id could start process proc.
func (m *Model51) Start(id, project, env, proc string) bool {
	roles := m.ProjectRoles(id, project, env)
	if len(roles) == 0 {
		return false
	}
	for _, p := range m.Served(id, project, env).Build.Processes {
		if p.ID == proc {
			return intersects(roles, p.Roles)
		}
	}
	return false
}

// Swimlane says whether user id had right (view, execute, self_assign) on
// swimlane lane of process proc.
func (m *Model51) Swimlane(id, project, env, proc, lane, right string) bool {
	roles := m.ProjectRoles(id, project, env)
	if len(roles) == 0 {
		return false
	}
	for _, p := range m.Served(id, project, env).Build.Processes {
		if p.ID != proc {
			continue
		}
		for _, r := range roles {
			if slices.Contains(p.Swimlanes[lane][r], right) {
				return true
			}
		}
	}
	return false
}

func intersects(a, b []string) bool {
	for _, x := range a {
		if slices.Contains(b, x) {
			return true
		}
	}
	return false
}

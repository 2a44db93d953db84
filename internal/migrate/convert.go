package migrate

import (
	"fmt"
	"slices"
	"strings"

	"github.com/verdict-pdp/verdict/internal/orgdoc"
	"github.com/verdict-pdp/verdict/internal/verr"
)

// UserRole is the project-level role every UI flow without a role list gets
// (seed 002: "UI Flows carried over from 5.1.x automatically receive the
// project-level User role on upgrade").
const UserRole = "User"

// Convert migrates a validated export to an org document and the report of
// every change. The rules (docs/migration.md):
//
//   - Users move over: enabled -> active, else disabled; last_login ->
//     last_seen. Roles and groups (members, attributes) move over.
//   - A role assigned to a user directly becomes a legacy grant, which keeps
//     its 5.1 meaning (every project whose served build lists it).
//   - A group's roles become shares to the group, in every environment of
//     every project, of those roles that a build the environment can serve
//     lists: the 5.1 meaning of an org-level role, made explicit per
//     environment.
//   - Every UI flow without a role list gets [User]; a build with such a
//     flow lists User in its catalog (and User joins the org's roles).
//     Everyone who had access to that flow in 5.1 (access to the project in
//     that environment) and would not hold User there gets a share of User,
//     so that nobody loses a flow they could launch. When a catalog had to
//     gain User, a direct User assignment becomes such shares instead of a
//     legacy grant, which would reach builds that never listed User.
//   - Username overrides move over. Role overrides are kept, deprecated
//     (never used); each gets a suggested group override, applied when the
//     group's members are exactly the role's holders.
//   - Designer access, automation-flow permissions and business filters are
//     carried over unchanged.
//
// The document is validated (orgdoc); a rule it breaks is reported at its
// path, which for carried-over parts is the same in the export.
func Convert(e *Export) (*orgdoc.Org, *Report, error) {
	c := &converter{exp: e, m: NewModel51(e), o: &orgdoc.Org{Org: e.Org},
		rep:      &Report{Org: e.Org, Changes: []Change{}, Suggestions: []Suggestion{}, NotInvited: []string{}},
		groupsOf: map[string][]string{}}
	c.org()
	c.users()
	c.roles()
	c.groups()
	c.projects()
	c.legacyGrants()
	c.carried()
	c.summarize()
	if err := c.o.Validate(""); err != nil {
		e := verr.As(err)
		return nil, nil, verr.Wrap(e.Code, e.Field, err, "the migrated document breaks a rule: %s", e.Message)
	}
	return c.o, c.rep, nil
}

type converter struct {
	exp *Export
	m   *Model51
	o   *orgdoc.Org
	rep *Report

	groupsOf map[string][]string // user id -> groups (export order)
	// catalogGainedUser: a build's catalog had to gain User.
	catalogGainedUser bool
	// defaulted: project -> build -> UI flows that had no role list.
	defaulted map[string]map[string]map[string]bool
}

func (c *converter) change(kind, path, from, format string, args ...any) {
	c.rep.Changes = append(c.rep.Changes, Change{Kind: kind, Path: path, From: from, Message: fmt.Sprintf(format, args...)})
}

func (c *converter) org() {
	c.o.Environments = slices.Clone(c.exp.Environments)
	c.o.Workspaces = slices.Clone(c.exp.Workspaces)
}

func (c *converter) users() {
	for i, u := range c.exp.Users {
		status := orgdoc.StatusActive
		if !u.Enabled {
			status = orgdoc.StatusDisabled
		}
		c.o.Users = append(c.o.Users, orgdoc.User{ID: u.ID, Username: u.Username, Email: u.Email, Status: status,
			DesignerUser: u.DesignerUser, Attributes: u.Attributes, ServiceAccount: u.ServiceAccount, LastSeen: u.LastLogin})
		invite := u.Enabled && !u.ServiceAccount && !u.EmailVerified
		note := ""
		if invite {
			c.rep.NotInvited = append(c.rep.NotInvited, u.ID)
			note = "; never invited (email not verified in the IdP): invite them"
		}
		c.change(ChangeUserCreated, at("users", i), at("users", i), "end user %s (%s) created, %s%s", u.Username, u.ID, status, note)
	}
}

func (c *converter) roles() {
	for i, r := range c.exp.Roles {
		c.o.Roles = append(c.o.Roles, r)
		c.change(ChangeRoleCreated, at("roles", i), at("roles", i), "runtime role %s created", r.Name)
	}
}

func (c *converter) groups() {
	for i, g := range c.exp.Groups {
		c.o.Groups = append(c.o.Groups, orgdoc.Group{Name: g.Name, Members: slices.Clone(g.Members), Attributes: g.Attributes})
		for _, m := range g.Members {
			c.groupsOf[m] = append(c.groupsOf[m], g.Name)
		}
		roles := "no roles"
		if len(g.Roles) > 0 {
			roles = "roles " + strings.Join(g.Roles, ", ") + " (shared per environment below)"
		}
		c.change(ChangeGroupCreated, at("groups", i), at("groups", i), "end-user group %q moved from the IdP with %d member(s); %s", g.Name, len(g.Members), roles)
	}
}

// ensureUserRole adds User to the org's roles when a flow needs it.
func (c *converter) ensureUserRole() {
	if slices.ContainsFunc(c.o.Roles, func(r orgdoc.Role) bool { return r.Name == UserRole }) {
		return
	}
	c.o.Roles = append(c.o.Roles, orgdoc.Role{Name: UserRole, Description: "project-level role of the UI flows carried over from 5.1"})
	c.change(ChangeRoleCreated, at("roles", len(c.o.Roles)-1), "", "runtime role %s created: UI flows without a role list get it", UserRole)
}

func (c *converter) projects() {
	c.defaulted = map[string]map[string]map[string]bool{}
	for i := range c.exp.Projects {
		c.builds(i)
	}
	for i := range c.exp.Projects {
		c.environments(i)
	}
	for i := range c.exp.Projects {
		c.shares(i)
	}
}

// builds copies a project's builds, giving User to flows without a list.
func (c *converter) builds(i int) {
	ep := &c.exp.Projects[i]
	p := orgdoc.Project{ID: ep.ID, Workspace: ep.Workspace, FlowPermissions: ep.FlowPermissions}
	c.defaulted[ep.ID] = map[string]map[string]bool{}
	for j, b := range ep.Builds {
		bp := at(at("projects", i)+".builds", j)
		nb := orgdoc.Build{ID: b.ID, Branch: b.Branch, Created: b.Created, Roles: slices.Clone(b.Roles), Processes: b.Processes}
		if nb.Roles == nil {
			nb.Roles = []string{}
		}
		if nb.Processes == nil {
			nb.Processes = []orgdoc.Process{}
		}
		nb.UIFlows = []orgdoc.UIFlow{}
		defaulted := map[string]bool{}
		for k, f := range b.UIFlows {
			nf := orgdoc.UIFlow{ID: f.ID, Components: f.Components}
			if f.Roles == nil {
				nf.Roles = []string{UserRole}
				defaulted[f.ID] = true
				c.ensureUserRole()
				c.change(ChangeFlowDefaultRole, at(bp+".ui_flows", k)+".roles", at(bp+".ui_flows", k),
					"UI flow %s of build %s (project %s) had no role list: it gets the project-level %s role; review and tighten it", f.ID, b.ID, ep.ID, UserRole)
			} else {
				nf.Roles = slices.Clone(*f.Roles)
			}
			nb.UIFlows = append(nb.UIFlows, nf)
		}
		if len(defaulted) > 0 && !slices.Contains(nb.Roles, UserRole) {
			nb.Roles = append(nb.Roles, UserRole)
			c.catalogGainedUser = true
			c.change(ChangeBuildRoleAdded, bp+".roles", bp+".roles", "build %s of project %s lists %s, which its defaulted UI flows need", b.ID, ep.ID, UserRole)
		}
		c.defaulted[ep.ID][b.ID] = defaulted
		p.Builds = append(p.Builds, nb)
	}
	if len(ep.Environments) > 0 {
		p.Environments = map[string]*orgdoc.Environment{}
	}
	c.o.Projects = append(c.o.Projects, p)
}

// environments sets each environment's active policy and overrides.
func (c *converter) environments(i int) {
	ep, p := &c.exp.Projects[i], &c.o.Projects[i]
	for _, name := range sortedKeys(ep.Environments) {
		ee := ep.Environments[name]
		env := &orgdoc.Environment{Shares: []orgdoc.Share{}}
		p.Environments[name] = env
		envPath := at("projects", i) + ".environments." + name
		if ee.ActivePolicy == nil {
			c.change(ChangeEnvironmentCreated, envPath, envPath, "%s/%s has no active policy: it serves nothing, as in 5.1", ep.ID, name)
			continue
		}
		env.ActivePolicy = &orgdoc.ActivePolicy{Default: ee.ActivePolicy.orgPolicy(), Overrides: []orgdoc.Override{}}
		c.change(ChangeActivePolicy, envPath+".active_policy.default", envPath+".active_policy", "%s/%s serves %s by default", ep.ID, name, *ee.ActivePolicy)
		for k, o := range ee.UsernameOverrides {
			env.ActivePolicy.Overrides = append(env.ActivePolicy.Overrides, orgdoc.Override{Type: orgdoc.OverrideUsername, Username: o.Username, Policy: o.Policy().orgPolicy()})
			c.change(ChangeUsernameOverride, fmt.Sprintf("%s.active_policy.overrides[%d]", envPath, len(env.ActivePolicy.Overrides)-1),
				at(envPath+".username_overrides", k), "username override of %s (%s) kept", o.Username, o.Policy())
		}
		c.roleOverrides(i, name, ee, env, envPath)
	}
}

// roleOverrides keeps each role override, deprecated, and suggests (or,
// on an exact match, creates) a group override.
func (c *converter) roleOverrides(i int, envName string, ee *Environment, env *orgdoc.Environment, envPath string) {
	ep := &c.exp.Projects[i]
	usedPriority := map[int]string{}
	var kept []orgdoc.Override
	for k, o := range ee.RoleOverrides {
		prio := o.Priority
		kept = append(kept, orgdoc.Override{Type: orgdoc.OverrideRole, Role: o.Role, Priority: &prio, Policy: o.Policy().orgPolicy()})
		sg := c.suggest(o.Role)
		sg.Project, sg.Environment, sg.Role, sg.Priority, sg.Policy = ep.ID, envName, o.Role, o.Priority, o.Policy().String()
		if sg.Exact {
			if other, taken := usedPriority[o.Priority]; taken {
				sg.Match += fmt.Sprintf("; not applied: priority %d is already the group override of %q", o.Priority, other)
			} else {
				usedPriority[o.Priority] = sg.Group
				gp := o.Priority
				env.ActivePolicy.Overrides = append(env.ActivePolicy.Overrides, orgdoc.Override{Type: orgdoc.OverrideGroup, Group: sg.Group, Priority: &gp, Policy: o.Policy().orgPolicy()})
				sg.Applied = true
				c.change(ChangeGroupOverride, fmt.Sprintf("%s.active_policy.overrides[%d]", envPath, len(env.ActivePolicy.Overrides)-1),
					at(envPath+".role_overrides", k), "group override of %q (priority %d, %s) created from role override %s: %s", sg.Group, o.Priority, o.Policy(), o.Role, sg.Match)
			}
		}
		c.rep.Suggestions = append(c.rep.Suggestions, sg)
	}
	base := len(env.ActivePolicy.Overrides)
	for k, o := range kept {
		env.ActivePolicy.Overrides = append(env.ActivePolicy.Overrides, o)
		path := fmt.Sprintf("%s.active_policy.overrides[%d]", envPath, base+k)
		c.rep.Suggestions[len(c.rep.Suggestions)-len(kept)+k].Path = path
		c.change(ChangeRoleOverrideKept, path, at(envPath+".role_overrides", k),
			"role override %s (priority %d, %s) kept as deprecated: Verdict never uses it", o.Role, *o.Priority, ee.RoleOverrides[k].Policy())
	}
}

// suggest finds the group whose members best match the holders of role.
func (c *converter) suggest(role string) Suggestion {
	holders := c.m.Holders(role)
	sg := Suggestion{Holders: nonNil(holders)}
	if len(holders) == 0 {
		sg.Match = "nobody holds the role: the override served no one; delete it"
		return sg
	}
	best, bestScore := -1, 0.0
	for gi, g := range c.exp.Groups {
		inter := 0
		for _, h := range holders {
			if slices.Contains(g.Members, h) {
				inter++
			}
		}
		if inter == 0 {
			continue
		}
		score := float64(inter) / float64(len(holders)+len(g.Members)-inter)
		if score > bestScore {
			best, bestScore = gi, score
		}
	}
	if best < 0 {
		sg.Match = fmt.Sprintf("no group has any of the %d holders (%s): create a group of them and give it a group override", len(holders), strings.Join(holders, ", "))
		return sg
	}
	g := c.exp.Groups[best]
	sg.Group = g.Name
	for _, h := range holders {
		if slices.Contains(g.Members, h) {
			sg.Matched = append(sg.Matched, h)
		} else {
			sg.Missing = append(sg.Missing, h)
		}
	}
	for _, m := range g.Members {
		if !slices.Contains(holders, m) {
			sg.Extra = append(sg.Extra, m)
		}
	}
	sg.Exact = len(sg.Missing) == 0 && len(sg.Extra) == 0
	if sg.Exact {
		sg.Match = fmt.Sprintf("group %q: exact (its %d member(s) are the role's holders)", g.Name, len(g.Members))
		return sg
	}
	sg.Match = fmt.Sprintf("group %q: %d of %d holders", g.Name, len(sg.Matched), len(holders))
	if len(sg.Missing) > 0 {
		sg.Match += ", missing " + strings.Join(sg.Missing, ", ")
	}
	if len(sg.Extra) > 0 {
		sg.Match += ", plus members not holding the role: " + strings.Join(sg.Extra, ", ")
	}
	return sg
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// servable lists the builds an environment's active policy can serve after
// the migration: the default's and each username or group override's.
func servable(p *orgdoc.Project, env *orgdoc.Environment) []*orgdoc.Build {
	if env.ActivePolicy == nil {
		return nil
	}
	var out []*orgdoc.Build
	add := func(pol orgdoc.Policy) {
		if b := p.PolicyBuild(pol); b != nil && !slices.Contains(out, b) {
			out = append(out, b)
		}
	}
	add(env.ActivePolicy.Default)
	for _, o := range env.ActivePolicy.Overrides {
		if o.Type != orgdoc.OverrideRole {
			add(o.Policy)
		}
	}
	return out
}

// servedAfter is the build the migrated environment serves a user (rule 3:
// username override, else the lowest-priority group override among its
// groups, else the default); the replay checks it against the engine.
func servedAfter(p *orgdoc.Project, env *orgdoc.Environment, username string, groups []string) *orgdoc.Build {
	if env == nil || env.ActivePolicy == nil {
		return nil
	}
	var group *orgdoc.Override
	for i := range env.ActivePolicy.Overrides {
		o := &env.ActivePolicy.Overrides[i]
		switch {
		case o.Type == orgdoc.OverrideUsername && o.Username == username:
			return p.PolicyBuild(o.Policy)
		case o.Type == orgdoc.OverrideGroup && slices.Contains(groups, o.Group):
			if group == nil || *o.Priority < *group.Priority {
				group = o
			}
		}
	}
	if group != nil {
		return p.PolicyBuild(group.Policy)
	}
	return p.PolicyBuild(env.ActivePolicy.Default)
}

// shares writes each group's roles as shares, then the User shares that
// keep defaulted flows open to those who could launch them.
func (c *converter) shares(i int) {
	ep, p := &c.exp.Projects[i], &c.o.Projects[i]
	for _, name := range sortedKeys(p.Environments) {
		env := p.Environments[name]
		builds := servable(p, env)
		if len(builds) == 0 {
			continue
		}
		catalog := map[string]bool{}
		for _, b := range builds {
			for _, r := range b.Roles {
				catalog[r] = true
			}
		}
		envPath := at("projects", i) + ".environments." + name
		holdsUser := map[string]bool{} // users given User on this environment
		for gi, g := range c.exp.Groups {
			var roles []string
			for _, r := range g.Roles {
				if catalog[r] {
					roles = append(roles, r)
				}
			}
			if len(roles) == 0 {
				continue
			}
			env.Shares = append(env.Shares, orgdoc.Share{Subject: orgdoc.Subject{Group: g.Name}, Roles: roles})
			if slices.Contains(roles, UserRole) {
				for _, m := range g.Members {
					holdsUser[m] = true
				}
			}
			c.change(ChangeGroupShare, at(envPath+".shares", len(env.Shares)-1), at("groups", gi)+".roles",
				"group %q shared %s on %s/%s (its 5.1 org-level roles that a build served there lists)", g.Name, strings.Join(roles, ", "), ep.ID, name)
		}
		for ui, u := range c.exp.Users {
			if !c.m.Access(u.ID, ep.ID, name) || holdsUser[u.ID] {
				continue
			}
			direct := slices.Contains(u.Roles, UserRole)
			if direct && !c.catalogGainedUser {
				continue // its legacy grant of User covers every build listing User
			}
			before := c.m.Served(u.ID, ep.ID, name).Build
			after := servedAfter(p, env, u.Username, c.groupsOf[u.ID])
			need := ""
			switch {
			case direct && before != nil && slices.Contains(before.Roles, UserRole):
				need = fmt.Sprintf("its direct 5.1 %s role (a legacy grant would reach builds that never listed %s)", UserRole, UserRole)
			case before != nil && len(c.defaulted[ep.ID][before.ID]) > 0:
				need = fmt.Sprintf("it could launch the UI flows of build %s that had no role list", before.ID)
			case after != nil && len(c.defaulted[ep.ID][after.ID]) > 0:
				need = fmt.Sprintf("it could launch the UI flows of build %s, served to it now, that had no role list", after.ID)
			default:
				continue
			}
			env.Shares = append(env.Shares, orgdoc.Share{Subject: orgdoc.Subject{User: u.ID}, Roles: []string{UserRole}})
			c.change(ChangeUserShare, at(envPath+".shares", len(env.Shares)-1), at("users", ui),
				"user %s shared %s on %s/%s: %s", u.Username, UserRole, ep.ID, name, need)
		}
	}
}

// legacyGrants turns direct role assignments into legacy grants.
func (c *converter) legacyGrants() {
	for i, u := range c.exp.Users {
		for j, r := range u.Roles {
			from := at(at("users", i)+".roles", j)
			if r == UserRole && c.catalogGainedUser {
				c.change(ChangeDirectUserAsShares, at("users", i), from,
					"%s's direct %s role became shares of %s where it had access (a legacy grant would reach builds that never listed %s)", u.Username, r, r, r)
				continue
			}
			c.o.LegacyGrants = append(c.o.LegacyGrants, orgdoc.LegacyGrant{User: u.ID, Role: r})
			c.change(ChangeLegacyGrant, at("legacy_grants", len(c.o.LegacyGrants)-1), from,
				"%s's direct org-level role %s became a legacy grant (it still applies on every project whose served build lists it)", u.Username, r)
		}
	}
}

// carried copies what the upgrade does not change.
func (c *converter) carried() {
	c.o.DesignerGroups = c.exp.DesignerGroups
	c.o.DesignerRoles = c.exp.DesignerRoles
	c.o.BusinessFilters = c.exp.BusinessFilters
	if n := len(c.exp.DesignerGroups) + len(c.exp.DesignerRoles); n > 0 {
		c.change(ChangeDesignerCarried, "designer_roles", "designer_roles",
			"%d designer groups and %d designer role assignments carried over unchanged (design-time access is not part of the upgrade)", len(c.exp.DesignerGroups), len(c.exp.DesignerRoles))
	}
	for i, p := range c.exp.Projects {
		if p.FlowPermissions != nil {
			c.change(ChangeFlowPermsCarried, at("projects", i)+".flow_permissions", at("projects", i)+".flow_permissions",
				"automation-flow permissions of %s carried over unchanged", p.ID)
		}
	}
	if len(c.exp.BusinessFilters) > 0 {
		c.change(ChangeFiltersCarried, "business_filters", "business_filters", "%d business filters carried over unchanged", len(c.exp.BusinessFilters))
	}
}

func (c *converter) summarize() {
	s := &c.rep.Summary
	s.Users, s.Roles, s.Groups, s.LegacyGrants = len(c.o.Users), len(c.o.Roles), len(c.o.Groups), len(c.o.LegacyGrants)
	for _, p := range c.o.Projects {
		for _, e := range p.Environments {
			s.Shares += len(e.Shares)
		}
	}
	for _, ch := range c.rep.Changes {
		switch ch.Kind {
		case ChangeFlowDefaultRole:
			s.DefaultedFlows++
		case ChangeRoleOverrideKept:
			s.RoleOverrides++
		case ChangeGroupOverride:
			s.GroupOverrides++
		}
	}
	for _, u := range c.exp.Users {
		if c.m.HadAccess(u.ID) {
			s.UsersWithAccess++
		}
	}
}

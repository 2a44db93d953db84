package orgdoc

import (
	"slices"
	"strings"
)

func (v *orgValidator) projects() error {
	ids := nameSet{}
	for i := range v.o.Projects {
		if err := v.project(index(v.at("projects"), i), &v.o.Projects[i], ids); err != nil {
			return err
		}
	}
	return nil
}

// project checks projects[i] (at pp); ids holds the ids of the projects
// before it.
func (v *orgValidator) project(pp string, p *Project, ids nameSet) error {
	if err := unique(field(pp, "id"), "project id", p.ID, ids); err != nil {
		return err
	}
	wp := field(pp, "workspace")
	if p.Workspace == "" {
		return invalid(wp, "workspace is required")
	}
	// An org document without a workspace list (a runtime-only export)
	// cannot check the name; with one, a dangling name is refused.
	if len(v.o.Workspaces) > 0 && !v.workspaces[p.Workspace] {
		return invalid(wp, "unknown workspace %q", p.Workspace)
	}
	builds := nameSet{}
	for j := range p.Builds {
		if err := v.build(index(field(pp, "builds"), j), &p.Builds[j], builds); err != nil {
			return err
		}
	}
	for _, name := range sortedKeys(p.Environments) {
		if err := v.environment(key(field(pp, "environments"), name), name, p.Environments[name], builds); err != nil {
			return err
		}
	}
	if p.FlowPermissions != nil {
		if err := v.flowPermissions(field(pp, "flow_permissions"), p.FlowPermissions); err != nil {
			return err
		}
	}
	return nil
}

// build checks one build and adds its id to ids. Everything a build names
// must be in its own role catalog, which must be org roles.
func (v *orgValidator) build(bp string, b *Build, ids nameSet) error {
	if err := unique(field(bp, "id"), "build id", b.ID, ids); err != nil {
		return err
	}
	if b.Branch == "" {
		return invalid(field(bp, "branch"), "branch is required")
	}
	if _, err := CreatedKey(b.Created); err != nil {
		return invalid(field(bp, "created"), "%v", err)
	}
	catalog := nameSet{}
	for k, r := range b.Roles {
		rp := index(field(bp, "roles"), k)
		// A build is immutable and carries its own catalog: it may list a
		// role the org has since deleted (deleting a role never rewrites
		// builds), so only the name is checked here.
		if r == "" {
			return invalid(rp, "role name must not be empty")
		}
		if catalog[r] {
			return invalid(rp, "duplicate role %q", r)
		}
		catalog[r] = true
	}
	flows := nameSet{}
	for k, f := range b.UIFlows {
		fp := index(field(bp, "ui_flows"), k)
		if err := unique(field(fp, "id"), "ui flow id", f.ID, flows); err != nil {
			return err
		}
		if err := inCatalog(field(fp, "roles"), f.Roles, catalog); err != nil {
			return err
		}
		for _, id := range sortedKeys(f.Components) {
			cp := key(field(fp, "components"), id)
			if id == "" {
				return invalid(cp, "component id must not be empty")
			}
			c := f.Components[id]
			if err := inCatalog(field(cp, "hidden_for"), c.HiddenFor, catalog); err != nil {
				return err
			}
			if err := inCatalog(field(cp, "disabled_for"), c.DisabledFor, catalog); err != nil {
				return err
			}
		}
	}
	procs := nameSet{}
	for k, pr := range b.Processes {
		if err := v.process(index(field(bp, "processes"), k), pr, procs, catalog); err != nil {
			return err
		}
	}
	return nil
}

func (v *orgValidator) process(pp string, pr Process, ids, catalog nameSet) error {
	if err := unique(field(pp, "id"), "process id", pr.ID, ids); err != nil {
		return err
	}
	if err := inCatalog(field(pp, "roles"), pr.Roles, catalog); err != nil {
		return err
	}
	for _, lane := range sortedKeys(pr.Swimlanes) {
		lp := key(field(pp, "swimlanes"), lane)
		if lane == "" {
			return invalid(lp, "swimlane id must not be empty")
		}
		for _, role := range sortedKeys(pr.Swimlanes[lane]) {
			rp := key(lp, role)
			if !catalog[role] {
				return invalid(rp, "role %q is not in the build's roles", role)
			}
			for n, right := range pr.Swimlanes[lane][role] {
				if !slices.Contains(SwimlaneRights, right) {
					return notOneOf(index(rp, n), "swimlane right", right, SwimlaneRights...)
				}
			}
		}
	}
	return nil
}

// inCatalog checks that every role of list is in the build's catalog.
func inCatalog(path string, list []string, catalog nameSet) error {
	for i, r := range list {
		if !catalog[r] {
			return invalid(index(path, i), "role %q is not in the build's roles", r)
		}
	}
	return nil
}

func (v *orgValidator) environment(ep, name string, env *Environment, builds nameSet) error {
	if name == "" {
		return invalid(ep, "environment name must not be empty")
	}
	// As with workspaces: checked whenever the org lists its environments.
	if len(v.o.Environments) > 0 && !v.envs[name] {
		return invalid(ep, "unknown environment %q", name)
	}
	if env == nil {
		return invalid(ep, "environment must be an object, not null")
	}
	if env.ActivePolicy != nil {
		if err := v.activePolicy(field(ep, "active_policy"), env.ActivePolicy, builds); err != nil {
			return err
		}
	}
	// One share per subject and environment: the Share modal edits a
	// subject's roles in one place, and the store keys shares by subject.
	seen := map[Subject]bool{}
	for i, sh := range env.Shares {
		sp := index(field(ep, "shares"), i)
		if err := v.share(sp, sh); err != nil {
			return err
		}
		if seen[sh.Subject] {
			return invalid(field(sp, "subject"), "a second share for the same subject in this environment: merge their roles")
		}
		seen[sh.Subject] = true
	}
	return nil
}

// policy checks that p names exactly one of an existing build of the project
// or a branch.
func policy(path string, p Policy, builds nameSet) error {
	switch {
	case (p.Build == "") == (p.LatestOnBranch == ""):
		return invalid(path, "policy must name exactly one of build, latest_on_branch")
	case p.Build != "":
		if !builds[p.Build] {
			return invalid(field(path, "build"), "unknown build %q in this project", p.Build)
		}
	case strings.TrimSpace(p.LatestOnBranch) == "":
		return invalid(field(path, "latest_on_branch"), "branch name must not be blank")
	}
	return nil
}

func (v *orgValidator) activePolicy(ap string, a *ActivePolicy, builds nameSet) error {
	if err := policy(field(ap, "default"), a.Default, builds); err != nil {
		return err
	}
	usernames := nameSet{}
	priorities := map[int]int{} // group override priority -> override index
	for i, ov := range a.Overrides {
		op := index(field(ap, "overrides"), i)
		if err := v.override(op, ov, usernames); err != nil {
			return err
		}
		// Rule 3 picks the lowest priority number among a user's groups:
		// equal numbers would leave the choice undefined.
		if ov.Type == OverrideGroup {
			if j, dup := priorities[*ov.Priority]; dup {
				return invalid(field(op, "priority"), "priority %d is already used by %s",
					*ov.Priority, index(field(ap, "overrides"), j))
			}
			priorities[*ov.Priority] = i
		}
		if err := policy(field(op, "policy"), ov.Policy, builds); err != nil {
			return err
		}
	}
	return nil
}

// override checks one override's type and the fields that type allows;
// a field of another type is refused rather than ignored, since the writer
// evidently meant something the override will not do.
func (v *orgValidator) override(op string, ov Override, usernames nameSet) error {
	extra := func(name, val string, allowed bool) error {
		if val != "" && !allowed {
			return invalid(field(op, name), "%s is not allowed on a %s override", name, ov.Type)
		}
		return nil
	}
	switch ov.Type {
	case OverrideUsername, OverrideGroup, OverrideRole:
	case "":
		return invalid(field(op, "type"), "type is required")
	default:
		return notOneOf(field(op, "type"), "override type", ov.Type, OverrideUsername, OverrideGroup, OverrideRole)
	}
	for _, e := range []error{
		extra("username", ov.Username, ov.Type == OverrideUsername),
		extra("group", ov.Group, ov.Type == OverrideGroup),
		extra("role", ov.Role, ov.Type == OverrideRole),
	} {
		if e != nil {
			return e
		}
	}
	switch ov.Type {
	case OverrideUsername:
		// A username override always wins (rule 3): a priority would suggest otherwise.
		if ov.Priority != nil {
			return invalid(field(op, "priority"), "priority is not allowed on a username override")
		}
		up := field(op, "username")
		if err := ref(up, "username", ov.Username, v.usernames); err != nil {
			return err
		}
		if usernames[ov.Username] {
			return invalid(up, "duplicate username override for %q", ov.Username)
		}
		usernames[ov.Username] = true
	case OverrideGroup:
		if err := ref(field(op, "group"), "group", ov.Group, v.groupNames); err != nil {
			return err
		}
		if ov.Priority == nil {
			return invalid(field(op, "priority"), "priority is required on a group override")
		}
	case OverrideRole:
		// Deprecated and never used (rule 3): kept as listed, any role name.
		if ov.Role == "" {
			return invalid(field(op, "role"), "role is required")
		}
	}
	return nil
}

// share: a known user or group given known org roles. Whether the roles are
// in the served build's catalog is decided per request (rule 2), not here.
func (v *orgValidator) share(sp string, sh Share) error {
	subj := field(sp, "subject")
	switch {
	case (sh.Subject.User == "") == (sh.Subject.Group == ""):
		return invalid(subj, "subject must name exactly one of user, group")
	case sh.Subject.User != "":
		if err := ref(field(subj, "user"), "user", sh.Subject.User, v.userIDs); err != nil {
			return err
		}
	default:
		if err := ref(field(subj, "group"), "group", sh.Subject.Group, v.groupNames); err != nil {
			return err
		}
	}
	if len(sh.Roles) == 0 {
		return invalid(field(sp, "roles"), "a share must give at least one role")
	}
	for i, r := range sh.Roles {
		if err := ref(index(field(sp, "roles"), i), "role", r, v.orgRoles); err != nil {
			return err
		}
	}
	return nil
}

func (v *orgValidator) flowPermissions(fp string, f *FlowPermissions) error {
	if f.Defaults != nil {
		if err := v.flowEntries(field(fp, "defaults"), *f.Defaults); err != nil {
			return err
		}
	}
	for _, id := range sortedKeys(f.Flows) {
		ep := key(field(fp, "flows"), id)
		if id == "" {
			return invalid(ep, "flow id must not be empty")
		}
		if err := v.flowEntries(ep, f.Flows[id]); err != nil {
			return err
		}
	}
	return nil
}

func (v *orgValidator) flowEntries(ep string, e FlowEntries) error {
	for _, u := range sortedKeys(e.Users) {
		up := key(field(ep, "users"), u)
		if err := ref(up, "user", u, v.userIDs); err != nil {
			return err
		}
		if err := grantOrDeny(up, e.Users[u]); err != nil {
			return err
		}
	}
	for _, r := range sortedKeys(e.Roles) {
		rp := key(field(ep, "roles"), r)
		if !v.orgRoles[r] && r != RoleAuthenticatedUser && r != RoleNonAuthenticatedUser {
			return invalid(rp, "unknown role %q (not an org role nor %s, %s)", r, RoleAuthenticatedUser, RoleNonAuthenticatedUser)
		}
		if err := grantOrDeny(rp, e.Roles[r]); err != nil {
			return err
		}
	}
	return nil
}

func grantOrDeny(path, val string) error {
	if val != FlowGrant && val != FlowDeny {
		return notOneOf(path, "flow permission", val, FlowGrant, FlowDeny)
	}
	return nil
}

package review

import (
	"fmt"
	"slices"
	"strings"

	"github.com/verdict-pdp/verdict/internal/orgdoc"
)

// Finding codes of the post-upgrade checklist (stable: tools switch on
// them). The checklist is seed 002's, as findings.
const (
	// A UI flow of a build served somewhere still lists only User, the role
	// every flow carried over from 5.1 received.
	CodeDefaultRoleFlow = "ui_flow_default_role"
	// A deprecated role override is still in an active policy.
	CodeRoleOverride = "deprecated_role_override"
	// A project's environment has no active policy: it serves nothing.
	CodeNoActivePolicy = "no_active_policy"
	// A project's environment has no share.
	CodeNoShares = "no_shares"
	// An end-user group has no members.
	CodeEmptyGroup = "empty_group"
	// A share gives a role the environment's active build does not list.
	CodeShareOutsideBuild = "share_role_outside_active_build"
	// A legacy (5.1) grant still gives an active user a role that a build
	// served somewhere lists.
	CodeLegacyGrant = "legacy_grant_in_use"
	// An end user the migration created was never invited.
	CodeNotInvited = "user_not_invited"
)

// Finding is one item of the checklist: the record (its JSON path in the org
// document, GET /admin/v1/orgs/{org}, and a name for people) and the fix.
type Finding struct {
	Code        string `json:"code"`
	Path        string `json:"path"`
	ID          string `json:"id"`
	Project     string `json:"project,omitempty"`
	Environment string `json:"environment,omitempty"`
	Message     string `json:"message"`
	Fix         string `json:"fix"`
}

// Checklist is the post-upgrade checklist of an org.
type Checklist struct {
	Org         string         `json:"org"`
	Revision    int64          `json:"revision"`
	Environment string         `json:"environment,omitempty"`
	Counts      map[string]int `json:"counts"`
	Findings    []Finding      `json:"findings"`
}

// Check lists the findings of an org; env, when not "", keeps the findings
// of other environments out (org-wide ones stay).
func Check(in *Input, env string) *Checklist {
	c := &checker{in: in, o: in.Org, env: env, cl: &Checklist{Org: in.Org.Org, Revision: in.Revision, Environment: env,
		Counts: map[string]int{}, Findings: []Finding{}}}
	// Project by project (its flows, then its environments), then the
	// org-wide records, in document order.
	for pi := range in.Org.Projects {
		c.flows(pi)
		c.environments(pi)
	}
	c.groups()
	c.legacyGrants()
	c.uninvited()
	for _, f := range c.cl.Findings {
		c.cl.Counts[f.Code]++
	}
	return c.cl
}

type checker struct {
	in  *Input
	o   *orgdoc.Org
	env string
	cl  *Checklist
}

func (c *checker) add(f Finding) { c.cl.Findings = append(c.cl.Findings, f) }

// envs lists the environments of a project that the checklist covers.
func (c *checker) envs(p *orgdoc.Project) []string {
	var out []string
	for _, e := range sortedKeys(p.Environments) {
		if c.env == "" || e == c.env {
			out = append(out, e)
		}
	}
	return out
}

// servedBuilds lists the builds an environment's active policy can serve:
// its default's and its username and group overrides' (role overrides are
// never used).
func servedBuilds(p *orgdoc.Project, e *orgdoc.Environment) []*orgdoc.Build {
	if e == nil || e.ActivePolicy == nil {
		return nil
	}
	var out []*orgdoc.Build
	add := func(pol orgdoc.Policy) {
		if b := p.PolicyBuild(pol); b != nil && !slices.Contains(out, b) {
			out = append(out, b)
		}
	}
	add(e.ActivePolicy.Default)
	for _, o := range e.ActivePolicy.Overrides {
		if o.Type != orgdoc.OverrideRole {
			add(o.Policy)
		}
	}
	return out
}

func (c *checker) flows(pi int) {
	p := &c.o.Projects[pi]
	served := map[string][]string{} // build id -> environments serving it
	for _, e := range c.envs(p) {
		for _, b := range servedBuilds(p, p.Environments[e]) {
			served[b.ID] = append(served[b.ID], e)
		}
	}
	for bi, b := range p.Builds {
		envs := served[b.ID]
		if len(envs) == 0 {
			continue
		}
		for fi, f := range b.UIFlows {
			if !slices.Equal(f.Roles, []string{"User"}) {
				continue
			}
			c.add(Finding{Code: CodeDefaultRoleFlow, Path: at(at(at("projects", pi)+".builds", bi)+".ui_flows", fi),
				ID: p.ID + "/" + b.ID + "/" + f.ID, Project: p.ID,
				Message: fmt.Sprintf("UI flow %s of build %s (served in %s) is still open to the default User role only", f.ID, b.ID, strings.Join(envs, ", ")),
				Fix:     fmt.Sprintf("Open %s in the Designer and reduce its role list to the roles that need it; builds are immutable, so create a new build and make it the active policy of %s", f.ID, strings.Join(envs, ", "))})
		}
	}
}

func (c *checker) environments(pi int) {
	p := &c.o.Projects[pi]
	for _, name := range c.envs(p) {
		e := p.Environments[name]
		ep := at("projects", pi) + ".environments." + name
		id := p.ID + "/" + name
		if e.ActivePolicy == nil {
			c.add(Finding{Code: CodeNoActivePolicy, Path: ep, ID: id, Project: p.ID, Environment: name,
				Message: fmt.Sprintf("%s has no active policy in %s: it serves no build, everyone is denied", p.ID, name),
				Fix:     fmt.Sprintf("Pick the build to serve: PUT /admin/v1/orgs/%s/projects/%s/environments/%s/active-policy/default", c.o.Org, p.ID, name)})
		}
		if len(e.Shares) == 0 {
			c.add(Finding{Code: CodeNoShares, Path: ep + ".shares", ID: id, Project: p.ID, Environment: name,
				Message: fmt.Sprintf("%s is shared with nobody in %s", p.ID, name),
				Fix:     fmt.Sprintf("Rebuild its sharing (Share modal): PUT /admin/v1/orgs/%s/projects/%s/environments/%s/shares/groups/{group}, or promote it from another environment (verdict promote)", c.o.Org, p.ID, name)})
		}
		c.roleOverrides(pi, p, name, e, ep)
		c.sharesOutside(pi, p, name, e, ep)
	}
}

func (c *checker) roleOverrides(pi int, p *orgdoc.Project, name string, e *orgdoc.Environment, ep string) {
	if e.ActivePolicy == nil {
		return
	}
	for oi, o := range e.ActivePolicy.Overrides {
		if o.Type != orgdoc.OverrideRole {
			continue
		}
		prio := 0
		if o.Priority != nil {
			prio = *o.Priority
		}
		fix := fmt.Sprintf("Create a group override for the group whose members should get %s (priority required, unique), then delete this row: DELETE /admin/v1/orgs/%s/projects/%s/environments/%s/active-policy/overrides/roles/%s",
			policyText(o.Policy), c.o.Org, p.ID, name, o.Role)
		for _, g := range e.ActivePolicy.Overrides {
			if g.Type == orgdoc.OverrideGroup && g.Policy == o.Policy && g.Priority != nil && *g.Priority == prio {
				fix = fmt.Sprintf("The group override of %q serves the same %s at the same priority: delete this row: DELETE /admin/v1/orgs/%s/projects/%s/environments/%s/active-policy/overrides/roles/%s",
					g.Group, policyText(o.Policy), c.o.Org, p.ID, name, o.Role)
			}
		}
		c.add(Finding{Code: CodeRoleOverride, Path: at(ep+".active_policy.overrides", oi), ID: p.ID + "/" + name + "/role:" + o.Role,
			Project: p.ID, Environment: name,
			Message: fmt.Sprintf("The role override of %s (priority %d, %s) is deprecated: Verdict never uses it", o.Role, prio, policyText(o.Policy)),
			Fix:     fix})
	}
}

func (c *checker) sharesOutside(pi int, p *orgdoc.Project, name string, e *orgdoc.Environment, ep string) {
	var catalog []string
	build := ""
	if e.ActivePolicy != nil {
		if b := p.PolicyBuild(e.ActivePolicy.Default); b != nil {
			catalog, build = b.Roles, b.ID
		}
	}
	if build == "" {
		return // no active build: the no_active_policy finding says it
	}
	for si, s := range e.Shares {
		for ri, r := range s.Roles {
			if slices.Contains(catalog, r) {
				continue
			}
			who, seg := "user "+s.Subject.User, "users/"+s.Subject.User
			if s.Subject.Group != "" {
				who, seg = "group "+s.Subject.Group, "groups/"+s.Subject.Group
			}
			c.add(Finding{Code: CodeShareOutsideBuild, Path: at(at(ep+".shares", si)+".roles", ri), ID: p.ID + "/" + name + "/" + seg + "/" + r,
				Project: p.ID, Environment: name,
				Message: fmt.Sprintf("The share of %s on %s in %s gives %s, which the active build %s does not list: it grants nothing to users served %s", r, p.ID, name, who, build, build),
				Fix:     fmt.Sprintf("Remove %s from the share (PUT /admin/v1/orgs/%s/projects/%s/environments/%s/shares/%s with the other roles), or make a build listing %s the active policy", r, c.o.Org, p.ID, name, seg, r)})
		}
	}
}

func (c *checker) groups() {
	for gi, g := range c.o.Groups {
		if len(g.Members) > 0 {
			continue
		}
		c.add(Finding{Code: CodeEmptyGroup, Path: at("groups", gi), ID: g.Name,
			Message: fmt.Sprintf("End-user group %q has no members", g.Name),
			Fix:     fmt.Sprintf("Add its members (POST /admin/v1/orgs/%s/groups/%s/members) or delete it if it is not needed", c.o.Org, g.Name)})
	}
}

// legacyGrants flags grants of an active user whose role a build served
// in a covered environment lists (the grant then gives it that role).
func (c *checker) legacyGrants() {
	active := map[string]bool{}
	for _, u := range c.o.Users {
		active[u.ID] = u.Status == orgdoc.StatusActive
	}
	for gi, g := range c.o.LegacyGrants {
		if !active[g.User] {
			continue
		}
		var where []string
		for pi := range c.o.Projects {
			p := &c.o.Projects[pi]
			for _, e := range c.envs(p) {
				for _, b := range servedBuilds(p, p.Environments[e]) {
					if slices.Contains(b.Roles, g.Role) {
						where = append(where, p.ID+"/"+e)
						break
					}
				}
			}
		}
		if len(where) == 0 {
			continue
		}
		c.add(Finding{Code: CodeLegacyGrant, Path: at("legacy_grants", gi), ID: g.User + "/" + g.Role,
			Message: fmt.Sprintf("User %s still holds %s through a legacy 5.1 grant, which applies on %s", g.User, g.Role, strings.Join(where, ", ")),
			Fix: fmt.Sprintf("Share %s to the user (or a group) where it needs it, then delete the grant: DELETE /admin/v1/orgs/%s/users/%s/legacy-grants/%s",
				g.Role, c.o.Org, g.User, g.Role)})
	}
}

func (c *checker) uninvited() {
	for ui, u := range c.o.Users {
		un, ok := c.in.Uninvited[u.ID]
		if !ok {
			continue
		}
		c.add(Finding{Code: CodeNotInvited, Path: at("users", ui), ID: u.ID,
			Message: fmt.Sprintf("End user %s was created by the %s migration (%s) and never invited", u.Username, un.Migration, un.Time),
			Fix:     fmt.Sprintf("Re-issue the invitation through the IdP (Keycloak SMTP), then record it: POST /admin/v1/orgs/%s/users/%s/invitation", c.o.Org, u.ID)})
	}
}

func policyText(p orgdoc.Policy) string {
	if p.Build != "" {
		return "build " + p.Build
	}
	return "the latest build on " + p.LatestOnBranch
}

// Package orggen generates small random org documents that are valid and
// dense in interactions, and random decision requests about them, for
// property tests (test/random) and `verdict gen --random`.
//
// An org has 5–15 users and uses every field of the org document: shared
// roles, group shares, username, group and (deprecated) role overrides,
// several overrides of one group, latest_on_branch over several builds per
// branch with extreme and tied creation times, designer roles at every
// scope, designer groups, all_users_<workspace> groups, automation-flow
// grants and denies for users and roles at flow and app-wide level, legacy
// grants, business filters, invited and disabled users, designer_user flags.
// Names are drawn from small pools so that records collide on purpose (a
// UI flow in several builds, a runtime and a designer group of the same
// name, a username equal to another user's id).
//
// Everything is a pure function of the seed: the same seed gives the same
// org and requests. Values returned are owned by the caller; the functions
// keep no state and are safe for concurrent use.
package orggen

import (
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/verdict-pdp/verdict/internal/orgdoc"
)

// Pools of names. Small on purpose: collisions are the interactions.
var (
	roleNames        = []string{"User", "Clerk", "Manager", "Auditor", "Legacy", "Ops"}
	groupNames       = []string{"Staff", "Back office", "Pilot", "Canary", "g-1", "G_2", "all_users_w1"}
	designerGroups   = []string{"devs", "leads", "Back office"}
	workspaceIDs     = []string{"w1", "w2", "w3"}
	envNames         = []string{"dev", "uat", "prod"}
	branches         = []string{"main", "beta", "hotfix"}
	uiFlowIDs        = []string{"home", "desk", "admin", "beta", "report"}
	componentIDs     = []string{"btn", "grid", "notes"}
	processIDs       = []string{"claim", "review"}
	swimlaneIDs      = []string{"intake", "approve"}
	automationFlows  = []string{"sync", "night", "purge", "ping"}
	attributeKeys    = []string{"region", "dept"}
	attributeValues  = []string{"eu", "us", "ca", "ops", "it"}
	designerOrgRoles = []string{orgdoc.DesignerOrgOwner, orgdoc.DesignerOrgAdmin}
	designerWsRoles  = []string{orgdoc.DesignerWorkspaceAdmin, orgdoc.DesignerWorkspaceUser,
		orgdoc.DesignerThemeEditor, orgdoc.DesignerWorkspaceRuntimeEditor}
	designerProjectRoles = []string{orgdoc.DesignerProjectOwner, orgdoc.DesignerProjectEditor, orgdoc.DesignerProjectViewer}
	// goneRole is listed by some builds but is no org role (a role deleted
	// since: builds are immutable and keep it).
	goneRole = "Gone"
)

// createdTimes are build creation times: extremes of the document's range,
// both sides of the int64-nanosecond range (1677-09-21 to 2262-04-11), one
// instant written with two offsets, and nanosecond neighbours.
var createdTimes = []string{
	"0000-01-01T00:00:00Z",
	"0001-01-01T00:00:00Z",
	"1600-06-01T12:00:00Z",
	"1677-09-21T00:12:43.145224191Z",
	"1970-01-01T00:00:00Z",
	"2026-01-10T09:00:00Z",
	"2026-01-10T10:00:00+01:00",
	"2026-01-10T09:00:00.000000001Z",
	"2026-03-01T00:00:00-05:00",
	"2262-04-11T23:47:16.854775808Z",
	"2300-01-01T00:00:00+02:00",
	"9999-12-31T23:59:59.999999999Z",
}

// gen holds the random source and what has been generated so far.
type gen struct {
	r *rand.Rand
	o *orgdoc.Org
}

// OrgID is the org id Org gives a seed.
func OrgID(seed uint64) string { return fmt.Sprintf("rnd-%x", seed) }

// Org returns the random org of a seed (id OrgID(seed)). It is valid
// (orgdoc's Validate accepts it).
func Org(seed uint64) *orgdoc.Org {
	g := &gen{r: rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15)), o: &orgdoc.Org{Org: OrgID(seed)}}
	g.org()
	return g.o
}

func (g *gen) chance(pct int) bool { return g.r.IntN(100) < pct }

func (g *gen) pick(xs []string) string { return xs[g.r.IntN(len(xs))] }

// subset returns each of xs with probability pct, in order.
func (g *gen) subset(xs []string, pct int) []string {
	var out []string
	for _, x := range xs {
		if g.chance(pct) {
			out = append(out, x)
		}
	}
	return out
}

// some returns between lo and hi distinct elements of xs, in a random order.
func (g *gen) some(xs []string, lo, hi int) []string {
	p := slices.Clone(xs)
	g.r.Shuffle(len(p), func(i, j int) { p[i], p[j] = p[j], p[i] })
	hi = min(hi, len(p))
	lo = min(lo, hi)
	return p[:lo+g.r.IntN(hi-lo+1)]
}

func (g *gen) org() {
	o := g.o
	o.Environments = g.some(envNames, 1, 3)
	slices.Sort(o.Environments)
	for _, w := range g.some(workspaceIDs, 1, 3) {
		o.Workspaces = append(o.Workspaces, orgdoc.Workspace{ID: w})
	}
	g.users()
	for _, r := range g.some(roleNames, 2, 6) {
		role := orgdoc.Role{Name: r}
		if g.chance(30) {
			role.Description = "the " + r + " role"
		}
		o.Roles = append(o.Roles, role)
	}
	for _, name := range g.some(groupNames, 1, 5) {
		grp := orgdoc.Group{Name: name, Members: g.some(g.userIDs(), 0, 6)}
		if g.chance(40) {
			grp.Attributes = g.attributes()
		}
		o.Groups = append(o.Groups, grp)
	}
	for range g.r.IntN(5) {
		o.LegacyGrants = append(o.LegacyGrants, orgdoc.LegacyGrant{User: g.pick(g.userIDs()), Role: g.pick(g.orgRoles())})
	}
	for _, name := range g.some(designerGroups, 0, 3) {
		o.DesignerGroups = append(o.DesignerGroups, orgdoc.DesignerGroup{Name: name, Members: g.some(g.userIDs(), 0, 4)})
	}
	nProjects := 1 + g.r.IntN(3)
	for i := range nProjects {
		o.Projects = append(o.Projects, g.project(fmt.Sprintf("p%d", i+1)))
	}
	g.designerRoles()
	for i, key := range g.some(attributeKeys, 0, 2) {
		o.BusinessFilters = append(o.BusinessFilters, orgdoc.BusinessFilter{
			ID: fmt.Sprintf("by_%s", key), Field: fmt.Sprintf("t%d.%s", i, key), Attribute: key})
	}
}

func (g *gen) users() {
	n := 5 + g.r.IntN(11)
	for i := range n {
		u := orgdoc.User{ID: fmt.Sprintf("u%d", i+1), Username: fmt.Sprintf("user%d", i+1), Status: orgdoc.StatusActive}
		switch x := g.r.IntN(100); {
		case x < 12:
			u.Status = orgdoc.StatusDisabled
		case x < 22:
			u.Status = orgdoc.StatusInvited
		}
		// A username that is another user's id: ids and usernames must
		// never be confused (username overrides name usernames).
		if i > 0 && g.chance(10) {
			u.Username = fmt.Sprintf("u%d", i)
		}
		u.DesignerUser = g.chance(45)
		u.ServiceAccount = g.chance(10)
		if g.chance(30) {
			u.Email = u.Username + "@example.test"
		}
		if g.chance(50) {
			u.Attributes = g.attributes()
		}
		if g.chance(30) {
			u.LastSeen = "2026-01-02T03:04:05Z"
		}
		g.o.Users = append(g.o.Users, u)
	}
}

func (g *gen) attributes() map[string][]string {
	m := map[string][]string{}
	for _, k := range g.some(attributeKeys, 1, 2) {
		m[k] = g.some(attributeValues, 0, 3)
	}
	return m
}

func (g *gen) userIDs() []string {
	out := make([]string, len(g.o.Users))
	for i, u := range g.o.Users {
		out[i] = u.ID
	}
	return out
}

func (g *gen) usernames() []string {
	out := make([]string, len(g.o.Users))
	for i, u := range g.o.Users {
		out[i] = u.Username
	}
	return out
}

func (g *gen) orgRoles() []string {
	out := make([]string, len(g.o.Roles))
	for i, r := range g.o.Roles {
		out[i] = r.Name
	}
	return out
}

func (g *gen) groupNames() []string {
	out := make([]string, len(g.o.Groups))
	for i, gr := range g.o.Groups {
		out[i] = gr.Name
	}
	return out
}

func (g *gen) project(id string) orgdoc.Project {
	p := orgdoc.Project{ID: id, Workspace: g.o.Workspaces[g.r.IntN(len(g.o.Workspaces))].ID}
	nBuilds := g.r.IntN(6) // 0: a project with no build serves nothing
	for i := range nBuilds {
		p.Builds = append(p.Builds, g.build(fmt.Sprintf("b%d", i+1)))
	}
	envs := map[string]*orgdoc.Environment{}
	for _, e := range g.o.Environments {
		if g.chance(85) {
			envs[e] = g.environment(&p)
		}
	}
	if len(envs) > 0 {
		p.Environments = envs
	}
	if g.chance(75) {
		p.FlowPermissions = g.flowPermissions()
	}
	return p
}

func (g *gen) build(id string) orgdoc.Build {
	b := orgdoc.Build{ID: id, Branch: g.pick(branches[:2]), Roles: g.some(g.orgRoles(), 1, 5)}
	if g.chance(15) {
		b.Branch = "hotfix"
	}
	if g.chance(70) {
		b.Created = g.pick(createdTimes)
	} else {
		b.Created = fmt.Sprintf("%04d-%02d-%02dT%02d:00:00Z", g.r.IntN(10000), 1+g.r.IntN(12), 1+g.r.IntN(28), g.r.IntN(24))
	}
	if g.chance(15) {
		b.Roles = append(b.Roles, goneRole)
	}
	for _, f := range g.some(uiFlowIDs, 0, 4) {
		flow := orgdoc.UIFlow{ID: f, Roles: g.subset(b.Roles, 45)}
		for _, c := range g.some(componentIDs, 0, 3) {
			if flow.Components == nil {
				flow.Components = map[string]orgdoc.Component{}
			}
			flow.Components[c] = orgdoc.Component{HiddenFor: g.subset(b.Roles, 30), DisabledFor: g.subset(b.Roles, 30)}
		}
		b.UIFlows = append(b.UIFlows, flow)
	}
	for _, pid := range g.some(processIDs, 0, 2) {
		pr := orgdoc.Process{ID: pid, Roles: g.subset(b.Roles, 45)}
		for _, lane := range g.some(swimlaneIDs, 0, 2) {
			if pr.Swimlanes == nil {
				pr.Swimlanes = map[string]map[string][]string{}
			}
			byRole := map[string][]string{}
			for _, r := range g.subset(b.Roles, 50) {
				byRole[r] = g.subset(orgdoc.SwimlaneRights, 50)
			}
			pr.Swimlanes[lane] = byRole
		}
		b.Processes = append(b.Processes, pr)
	}
	return b
}

func buildIDs(p *orgdoc.Project) []string {
	out := make([]string, len(p.Builds))
	for i, b := range p.Builds {
		out[i] = b.ID
	}
	return out
}

// policy names a build of p or a branch (sometimes one without builds).
func (g *gen) policy(p *orgdoc.Project) orgdoc.Policy {
	if len(p.Builds) > 0 && g.chance(50) {
		return orgdoc.Policy{Build: g.pick(buildIDs(p))}
	}
	return orgdoc.Policy{LatestOnBranch: g.pick(branches)}
}

func (g *gen) environment(p *orgdoc.Project) *orgdoc.Environment {
	e := &orgdoc.Environment{}
	if g.chance(85) {
		ap := &orgdoc.ActivePolicy{Default: g.policy(p), Overrides: []orgdoc.Override{}}
		for _, name := range g.some(g.usernames(), 0, 2) {
			ap.Overrides = append(ap.Overrides, orgdoc.Override{Type: orgdoc.OverrideUsername, Username: name, Policy: g.policy(p)})
		}
		// Group overrides: unique priorities, sometimes several for one
		// group (rule 3: the lowest number wins).
		prios := g.r.Perm(12)
		for i := range g.r.IntN(5) {
			prio := prios[i] - 3
			ap.Overrides = append(ap.Overrides, orgdoc.Override{Type: orgdoc.OverrideGroup, Group: g.pick(g.groupNames()),
				Priority: &prio, Policy: g.policy(p)})
		}
		if g.chance(20) {
			prio := g.r.IntN(5)
			ap.Overrides = append(ap.Overrides, orgdoc.Override{Type: orgdoc.OverrideRole, Role: g.pick(roleNames),
				Priority: &prio, Policy: g.policy(p)})
		}
		g.r.Shuffle(len(ap.Overrides), func(i, j int) { ap.Overrides[i], ap.Overrides[j] = ap.Overrides[j], ap.Overrides[i] })
		e.ActivePolicy = ap
	}
	e.Shares = []orgdoc.Share{}
	for _, u := range g.some(g.userIDs(), 0, 6) {
		e.Shares = append(e.Shares, orgdoc.Share{Subject: orgdoc.Subject{User: u}, Roles: g.some(g.orgRoles(), 1, 3)})
	}
	for _, gr := range g.some(g.groupNames(), 0, 3) {
		e.Shares = append(e.Shares, orgdoc.Share{Subject: orgdoc.Subject{Group: gr}, Roles: g.some(g.orgRoles(), 1, 3)})
	}
	g.r.Shuffle(len(e.Shares), func(i, j int) { e.Shares[i], e.Shares[j] = e.Shares[j], e.Shares[i] })
	return e
}

func (g *gen) grantOrDeny() string {
	if g.chance(45) {
		return orgdoc.FlowDeny
	}
	return orgdoc.FlowGrant
}

func (g *gen) flowEntries() orgdoc.FlowEntries {
	var e orgdoc.FlowEntries
	for _, u := range g.some(g.userIDs(), 0, 2) {
		if e.Users == nil {
			e.Users = map[string]string{}
		}
		e.Users[u] = g.grantOrDeny()
	}
	roles := append(g.orgRoles(), orgdoc.RoleAuthenticatedUser, orgdoc.RoleNonAuthenticatedUser)
	for _, r := range g.some(roles, 0, 3) {
		if e.Roles == nil {
			e.Roles = map[string]string{}
		}
		e.Roles[r] = g.grantOrDeny()
	}
	return e
}

func (g *gen) flowPermissions() *orgdoc.FlowPermissions {
	fp := &orgdoc.FlowPermissions{}
	if g.chance(60) {
		d := g.flowEntries()
		fp.Defaults = &d
	}
	for _, f := range g.some(automationFlows, 0, 3) {
		if fp.Flows == nil {
			fp.Flows = map[string]orgdoc.FlowEntries{}
		}
		fp.Flows[f] = g.flowEntries()
	}
	return fp
}

// designerRoles assigns designer roles at every scope to users, designer
// groups and all_users_<workspace> groups; at most one project_owner per
// project.
func (g *gen) designerRoles() {
	var subjects []orgdoc.Subject
	for _, u := range g.userIDs() {
		subjects = append(subjects, orgdoc.Subject{User: u})
	}
	for _, dg := range g.o.DesignerGroups {
		subjects = append(subjects, orgdoc.Subject{Group: dg.Name})
	}
	for _, w := range g.o.Workspaces {
		subjects = append(subjects, orgdoc.Subject{Group: orgdoc.SystemGroupPrefix + w.ID})
	}
	owned := map[string]bool{}
	n := 3 + g.r.IntN(8)
	for range n {
		s := subjects[g.r.IntN(len(subjects))]
		var dr orgdoc.DesignerRole
		switch x := g.r.IntN(10); {
		case x < 2:
			dr = orgdoc.DesignerRole{Subject: s, Role: g.pick(designerOrgRoles), Scope: orgdoc.Scope{Org: true}}
		case x < 5:
			dr = orgdoc.DesignerRole{Subject: s, Role: g.pick(designerWsRoles), Scope: orgdoc.Scope{Workspace: g.o.Workspaces[g.r.IntN(len(g.o.Workspaces))].ID}}
		default:
			pid := g.o.Projects[g.r.IntN(len(g.o.Projects))].ID
			role := g.pick(designerProjectRoles)
			if role == orgdoc.DesignerProjectOwner {
				if owned[pid] {
					role = orgdoc.DesignerProjectEditor
				}
				owned[pid] = true
			}
			dr = orgdoc.DesignerRole{Subject: s, Role: role, Scope: orgdoc.Scope{Project: pid}}
		}
		g.o.DesignerRoles = append(g.o.DesignerRoles, dr)
	}
}

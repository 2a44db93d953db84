package review

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/verdict-pdp/verdict/internal/assemble"
	"github.com/verdict-pdp/verdict/internal/authzen"
	"github.com/verdict-pdp/verdict/internal/engine"
	"github.com/verdict-pdp/verdict/internal/orgdoc"
	"github.com/verdict-pdp/verdict/internal/pdp"
	"github.com/verdict-pdp/verdict/internal/store"
	"github.com/verdict-pdp/verdict/internal/verr"
)

// Options of an access review.
type Options struct {
	// Project and Environment narrow the review ("" = every project, every
	// environment it has settings in).
	Project, Environment string
	// InactiveDays: a user not seen for this many days (or never) who still
	// holds access is listed (default 90).
	InactiveDays int
	// Now is the time the review is made at (default time.Now()).
	Now time.Time
}

// Validate fills defaults and checks the options.
func (o *Options) Validate() error {
	if o.InactiveDays < 0 {
		return verr.New(verr.InvalidInput, "inactive_days", "must not be negative")
	}
	if o.InactiveDays == 0 {
		o.InactiveDays = 90
	}
	if o.Now.IsZero() {
		o.Now = time.Now().UTC()
	}
	return nil
}

// Review is an access review (docs/review.md).
type Review struct {
	Org          string `json:"org"`
	Revision     int64  `json:"revision"`
	GeneratedAt  string `json:"generated_at"`
	Project      string `json:"project,omitempty"`
	Environment  string `json:"environment,omitempty"`
	InactiveDays int    `json:"inactive_days"`
	// Access: who can do what, one row per allowed decision.
	Access []Access `json:"access"`
	// Inactive: users not seen for InactiveDays (or never) who hold access.
	Inactive []Inactive `json:"inactive"`
	// Unjustified: org_admin, workspace_admin and project_owner assignments
	// with no recorded justification.
	Unjustified []DesignerRole `json:"unjustified_designer_roles"`
	// DisabledOwners: project owners whose user is disabled (or unknown).
	DisabledOwners []DesignerRole `json:"disabled_project_owners"`
	// LegacyOnly: users whose access to a project in an environment comes
	// only from legacy (5.1) grants.
	LegacyOnly []LegacyOnly `json:"legacy_only"`
}

// Access is one thing a user can do, as the engine decided it.
type Access struct {
	User     string `json:"user"`
	Username string `json:"username"`
	Project  string `json:"project"`
	// Environment is "" for design-time permissions on the project.
	Environment  string `json:"environment,omitempty"`
	ResourceType string `json:"resource_type"`
	Resource     string `json:"resource"`
	Action       string `json:"action"`
	// Detail: the build served and the rule that chose it (solution access).
	Detail string `json:"detail,omitempty"`
	// Via: the engine's explanation of solution access.
	Via []string `json:"via,omitempty"`
}

// Inactive is a user who holds access but has not been seen for a while.
type Inactive struct {
	User     string   `json:"user"`
	Username string   `json:"username"`
	LastSeen string   `json:"last_seen"` // "" when never seen
	Days     int      `json:"days_inactive"`
	Holds    []string `json:"holds"` // project/environment (or project/design) it can access
}

// DesignerRole is a designer role assignment a review lists.
type DesignerRole struct {
	// ID of the assignment in the admin API (0 when the snapshot is a file).
	ID      int64          `json:"id,omitempty"`
	Subject orgdoc.Subject `json:"subject"`
	Role    string         `json:"role"`
	Scope   orgdoc.Scope   `json:"scope"`
	Status  string         `json:"status,omitempty"` // the user's, for owners
	Fix     string         `json:"fix"`
}

// LegacyOnly is a user's access that removing its legacy grants would end.
type LegacyOnly struct {
	User        string   `json:"user"`
	Username    string   `json:"username"`
	Project     string   `json:"project"`
	Environment string   `json:"environment"`
	Grants      []string `json:"grants"`
}

// reviewed designer roles (seed 003: assign sparingly, document why).
var elevated = []string{orgdoc.DesignerOrgAdmin, orgdoc.DesignerWorkspaceAdmin, orgdoc.DesignerProjectOwner}

// Run makes an access review of a snapshot with engine eng.
func Run(ctx context.Context, eng *engine.Engine, in *Input, opts Options) (*Review, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	o := in.Org
	if opts.Project != "" && !slices.ContainsFunc(o.Projects, func(p orgdoc.Project) bool { return p.ID == opts.Project }) {
		return nil, verr.New(verr.NotFound, "project", "no project %q", opts.Project)
	}
	if opts.Environment != "" && len(o.Environments) > 0 && !slices.Contains(o.Environments, opts.Environment) {
		return nil, verr.New(verr.NotFound, "environment", "no environment %q in org %s", opts.Environment, o.Org)
	}
	svc, err := pdp.New(pdp.Config{DecisionCache: -1}, eng, assemble.NewDocSource([]orgdoc.Org{*o}))
	if err != nil {
		return nil, err
	}
	// The same snapshot without legacy grants: access that it denies comes
	// only from them.
	noLegacy := *o
	noLegacy.LegacyGrants = nil
	svcNoLegacy, err := pdp.New(pdp.Config{DecisionCache: -1}, eng, assemble.NewDocSource([]orgdoc.Org{noLegacy}))
	if err != nil {
		return nil, err
	}
	r := &Review{Org: o.Org, Revision: in.Revision, GeneratedAt: opts.Now.Format(time.RFC3339), Project: opts.Project,
		Environment: opts.Environment, InactiveDays: opts.InactiveDays,
		Access: []Access{}, Inactive: []Inactive{}, Unjustified: []DesignerRole{}, DisabledOwners: []DesignerRole{}, LegacyOnly: []LegacyOnly{}}
	rv := &reviewer{ctx: ctx, o: o, svc: svc, noLegacy: svcNoLegacy, r: r, opts: opts, grants: map[string][]string{}}
	for _, g := range o.LegacyGrants {
		rv.grants[g.User] = append(rv.grants[g.User], g.Role)
	}
	for i := range o.Users {
		if err := rv.user(&o.Users[i]); err != nil {
			return nil, err
		}
	}
	rv.designerRoles(in)
	return r, nil
}

type reviewer struct {
	ctx      context.Context
	o        *orgdoc.Org
	svc      *pdp.Service
	noLegacy *pdp.Service
	r        *Review
	opts     Options
	grants   map[string][]string // user -> legacy grant roles
}

func (rv *reviewer) projects() []*orgdoc.Project {
	var out []*orgdoc.Project
	for i := range rv.o.Projects {
		if rv.opts.Project == "" || rv.o.Projects[i].ID == rv.opts.Project {
			out = append(out, &rv.o.Projects[i])
		}
	}
	return out
}

func (rv *reviewer) ask(svc *pdp.Service, user, env, typ, id, action string, props map[string]any, explain bool) (bool, map[string]any, error) {
	c := map[string]any{"org": rv.o.Org}
	if env != "" {
		c["environment"] = env
	}
	if explain {
		c["explain"] = true
	}
	d, err := svc.Evaluate(rv.ctx, &authzen.Request{
		Subject:  &authzen.Entity{Type: "user", ID: user},
		Action:   &authzen.Action{Name: action},
		Resource: &authzen.Entity{Type: typ, ID: id, Properties: props},
		Context:  c,
	}, nil)
	if err != nil {
		return false, nil, verr.Wrap(verr.CodeOf(err), "", err, "deciding %s %s %s for %s: %v", action, typ, id, user, err)
	}
	return d.Decision, d.Context, nil
}

// AnyFlow stands, in the access rows, for every automation flow of a
// project that has no entry of its own: what the app-wide entries (or the
// documented default) give: the engine is asked about a flow of that id.
// A project whose own flow is called "*" has no such row.
const AnyFlow = "*"

// designActions are the design-time permissions on a project.
var designActions = []string{"read", "edit", "manage_access", "create_build", "change_active_policy"}

// user asks every question about one user and records what it holds.
func (rv *reviewer) user(u *orgdoc.User) error {
	var holds []string
	row := func(p, env, typ, res, action, detail string, via []string) {
		rv.r.Access = append(rv.r.Access, Access{User: u.ID, Username: u.Username, Project: p, Environment: env,
			ResourceType: typ, Resource: res, Action: action, Detail: detail, Via: via})
	}
	for _, p := range rv.projects() {
		design := false
		for _, a := range designActions {
			ok, _, err := rv.ask(rv.svc, u.ID, "", "project", p.ID, a, nil, false)
			if err != nil {
				return err
			}
			if ok {
				row(p.ID, "", "project", p.ID, a, "", nil)
				design = true
			}
		}
		if design {
			holds = append(holds, p.ID+"/design")
		}
		for _, env := range sortedKeys(p.Environments) {
			if rv.opts.Environment != "" && env != rv.opts.Environment {
				continue
			}
			ok, err := rv.runtime(u, p, env, row)
			if err != nil {
				return err
			}
			if ok {
				holds = append(holds, p.ID+"/"+env)
			}
		}
	}
	if len(holds) > 0 {
		rv.inactive(u, holds)
	}
	return nil
}

// runtime asks about one project in one environment; it reports whether
// the user can run the project there.
func (rv *reviewer) runtime(u *orgdoc.User, p *orgdoc.Project, env string, row func(p, env, typ, res, action, detail string, via []string)) (bool, error) {
	ok, ctx, err := rv.ask(rv.svc, u.ID, env, "solution", p.ID, "access", nil, true)
	if err != nil {
		return false, err
	}
	props := map[string]any{"project": p.ID}
	if ok {
		build, _ := ctx["build"].(string)
		rule, _ := ctx["rule"].(string)
		row(p.ID, env, "solution", p.ID, "access", fmt.Sprintf("build %s (%s)", build, rule), reasons(ctx))
		if b := p.FindBuild(build); b != nil {
			if err := rv.build(u, p, env, b, props, row); err != nil {
				return false, err
			}
		}
		if len(rv.grants[u.ID]) > 0 {
			still, _, err := rv.ask(rv.noLegacy, u.ID, env, "solution", p.ID, "access", nil, false)
			if err != nil {
				return false, err
			}
			if !still {
				rv.r.LegacyOnly = append(rv.r.LegacyOnly, LegacyOnly{User: u.ID, Username: u.Username, Project: p.ID, Environment: env, Grants: rv.grants[u.ID]})
			}
		}
	}
	// Automation flows: each flow with entries of its own, then AnyFlow
	// for every other flow (app-wide entries, else the default).
	flows := []string{AnyFlow}
	if p.FlowPermissions != nil {
		flows = sortedKeys(p.FlowPermissions.Flows)
		if _, taken := p.FlowPermissions.Flows[AnyFlow]; !taken {
			flows = append(flows, AnyFlow)
		}
	}
	for _, f := range flows {
		run, _, err := rv.ask(rv.svc, u.ID, env, "flow", f, "run", props, false)
		if err != nil {
			return false, err
		}
		if run {
			row(p.ID, env, "flow", f, "run", "", nil)
		}
	}
	return ok, nil
}

// build asks about every UI flow, process and swimlane of the build served.
func (rv *reviewer) build(u *orgdoc.User, p *orgdoc.Project, env string, b *orgdoc.Build, props map[string]any, row func(p, env, typ, res, action, detail string, via []string)) error {
	for _, f := range b.UIFlows {
		ok, _, err := rv.ask(rv.svc, u.ID, env, "ui_flow", f.ID, "launch", props, false)
		if err != nil {
			return err
		}
		if ok {
			row(p.ID, env, "ui_flow", f.ID, "launch", "build "+b.ID, nil)
		}
	}
	for _, pr := range b.Processes {
		ok, _, err := rv.ask(rv.svc, u.ID, env, "process", pr.ID, "start", props, false)
		if err != nil {
			return err
		}
		if ok {
			row(p.ID, env, "process", pr.ID, "start", "build "+b.ID, nil)
		}
		for _, lane := range sortedKeys(pr.Swimlanes) {
			for _, right := range orgdoc.SwimlaneRights {
				ok, _, err := rv.ask(rv.svc, u.ID, env, "swimlane", lane, right, map[string]any{"project": p.ID, "process": pr.ID}, false)
				if err != nil {
					return err
				}
				if ok {
					row(p.ID, env, "swimlane", pr.ID+"/"+lane, right, "build "+b.ID, nil)
				}
			}
		}
	}
	return nil
}

// reasons renders the engine's explanation.
func reasons(ctx map[string]any) []string {
	list, _ := ctx["reasons"].([]any)
	var out []string
	for _, x := range list {
		if m, ok := x.(map[string]any); ok {
			if msg, ok := m["message"].(string); ok {
				out = append(out, msg)
			}
		}
	}
	return out
}

// inactive lists u when it holds access and was not seen recently.
func (rv *reviewer) inactive(u *orgdoc.User, holds []string) {
	if u.LastSeen == "" {
		rv.r.Inactive = append(rv.r.Inactive, Inactive{User: u.ID, Username: u.Username, Days: -1, Holds: holds})
		return
	}
	t, err := time.Parse(time.RFC3339, u.LastSeen)
	if err != nil {
		// An unreadable sighting cannot prove activity.
		rv.r.Inactive = append(rv.r.Inactive, Inactive{User: u.ID, Username: u.Username, LastSeen: u.LastSeen, Days: -1, Holds: holds})
		return
	}
	days := int(rv.opts.Now.Sub(t).Hours() / 24)
	if days >= rv.opts.InactiveDays {
		rv.r.Inactive = append(rv.r.Inactive, Inactive{User: u.ID, Username: u.Username, LastSeen: u.LastSeen, Days: days, Holds: holds})
	}
}

// designerRoles lists elevated assignments without justification and
// project owners who are disabled, in the review's scope.
func (rv *reviewer) designerRoles(in *Input) {
	status := map[string]string{}
	for _, u := range rv.o.Users {
		status[u.ID] = u.Status
	}
	var ws string
	if rv.opts.Project != "" {
		for _, p := range rv.o.Projects {
			if p.ID == rv.opts.Project {
				ws = p.Workspace
			}
		}
	}
	for _, dr := range rv.o.DesignerRoles {
		if !slices.Contains(elevated, dr.Role) {
			continue
		}
		if rv.opts.Project != "" && !dr.Scope.Org && dr.Scope.Workspace != ws && dr.Scope.Project != rv.opts.Project {
			continue
		}
		key := store.JustificationKey(dr.Subject, dr.Role, dr.Scope)
		d := DesignerRole{ID: in.DesignerIDs[key], Subject: dr.Subject, Role: dr.Role, Scope: dr.Scope}
		if _, ok := in.Justifications[key]; !ok {
			d.Fix = fmt.Sprintf("Record why %s holds %s on %s: PUT %s/justification with {\"justification\": \"...\"}", subject(dr.Subject), dr.Role, scope(dr.Scope), rolePath(rv.o.Org, dr.Scope, d.ID))
			rv.r.Unjustified = append(rv.r.Unjustified, d)
		}
		if dr.Role == orgdoc.DesignerProjectOwner && dr.Subject.User != "" && status[dr.Subject.User] != orgdoc.StatusActive {
			o := d
			o.Status = status[dr.Subject.User]
			if o.Status == "" {
				o.Status = "unknown"
			}
			if o.Status == orgdoc.StatusInvited {
				continue
			}
			o.Fix = fmt.Sprintf("Transfer the ownership of %s to an active user: POST /admin/v1/orgs/%s/projects/%s/owner with {\"user\": \"...\"}", dr.Scope.Project, rv.o.Org, dr.Scope.Project)
			rv.r.DisabledOwners = append(rv.r.DisabledOwners, o)
		}
	}
}

func subject(s orgdoc.Subject) string {
	if s.User != "" {
		return "user " + s.User
	}
	return "designer group " + s.Group
}

func scope(s orgdoc.Scope) string {
	switch {
	case s.Project != "":
		return "project " + s.Project
	case s.Workspace != "":
		return "workspace " + s.Workspace
	}
	return "the org"
}

func rolePath(org string, s orgdoc.Scope, id int64) string {
	ids := "{id}"
	if id > 0 {
		ids = strconv.FormatInt(id, 10)
	}
	if s.Project != "" {
		return "/admin/v1/orgs/" + org + "/projects/" + s.Project + "/designer-roles/" + ids
	}
	return "/admin/v1/orgs/" + org + "/designer-roles/" + ids
}

package console

import (
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/verdict-pdp/verdict/internal/admin/domain"
	"github.com/verdict-pdp/verdict/internal/orgdoc"
	"github.com/verdict-pdp/verdict/internal/verr"
)

// Solutions: per solution and environment, the Share dialog and Runtime
// Settings → Active Policy.

type solution struct {
	ID, Workspace string
	Envs          []string
}

// solutionList lists the org's projects with every environment the org
// names (shares and policies are per environment, and must be redone in
// each one).
func (con *Console) solutionList(c *gin.Context) ([]solution, error) {
	ctx := c.Request.Context()
	org := sessionOf(c).Org
	st, err := con.cfg.Store.Settings(ctx, org)
	if err != nil {
		return nil, err
	}
	projects, _, err := listAll(listLimit, func(cur string) (domain.Page[domain.ProjectRecord], error) {
		return con.dom.ListProjects(ctx, org, cur, domain.MaxLimit)
	})
	if err != nil {
		return nil, err
	}
	out := make([]solution, 0, len(projects))
	for _, p := range projects {
		envs := slices.Clone(st.Environments)
		for _, e := range p.Environments {
			if !slices.Contains(envs, e) {
				envs = append(envs, e)
			}
		}
		out = append(out, solution{ID: p.ID, Workspace: p.Workspace, Envs: envs})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

func (con *Console) solutions(c *gin.Context) {
	list, err := con.solutionList(c)
	if err != nil {
		con.fail(c, err)
		return
	}
	con.render(c, http.StatusOK, "solutions", "Solutions", "solutions", map[string]any{"Solutions": list})
}

// activeBuild is the build the environment's Active Policy default serves
// (nil when none): the Share dialog offers its roles only, as the admin API
// accepts only those.
func (con *Console) activeBuild(c *gin.Context, project string, pol *domain.ActivePolicy) (*orgdoc.Build, error) {
	if pol == nil {
		return nil, nil
	}
	ctx := c.Request.Context()
	org := sessionOf(c).Org
	id := pol.Default.Build
	if b := pol.Default.LatestOnBranch; b != "" {
		builds, _, err := listAll(100000, func(cur string) (domain.Page[domain.BuildSummary], error) {
			return con.dom.ListBuilds(ctx, org, project, cur, domain.MaxLimit)
		})
		if err != nil {
			return nil, err
		}
		var bestT time.Time
		for _, x := range builds {
			if x.Branch != b {
				continue
			}
			t, _ := time.Parse(time.RFC3339, x.Created)
			if id == "" || t.After(bestT) || (t.Equal(bestT) && x.ID > id) {
				id, bestT = x.ID, t
			}
		}
	}
	if id == "" {
		return nil, nil
	}
	b, err := con.dom.GetBuild(ctx, org, project, id)
	if verr.CodeOf(err) == verr.NotFound {
		return nil, nil
	}
	return &b, err
}

// envPolicy reads (project, env)'s active policy, nil when it has none.
func (con *Console) envPolicy(c *gin.Context, project, env string) (*domain.ActivePolicy, error) {
	p, err := con.dom.GetActivePolicy(c.Request.Context(), sessionOf(c).Org, project, env)
	if verr.CodeOf(err) == verr.NotFound && verr.As(err).Field == "active_policy" {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &p, nil
}

func solutionPath(c *gin.Context, tail string) string {
	return "/console/solutions/" + url.PathEscape(c.Param("project")) + "/" + url.PathEscape(c.Param("env")) + "/" + tail
}

func (con *Console) share(c *gin.Context) {
	project, env := c.Param("project"), c.Param("env")
	if err := con.check(c, "project", project, "read"); err != nil {
		con.fail(c, err)
		return
	}
	ctx, cancel := reqCtx(c)
	defer cancel()
	org := sessionOf(c).Org
	shares, _, err := listAll(listLimit, func(cur string) (domain.Page[orgdoc.Share], error) {
		return con.dom.ListShares(ctx, org, project, env, cur, domain.MaxLimit)
	})
	if err != nil {
		con.fail(c, err)
		return
	}
	pol, err := con.envPolicy(c, project, env)
	if err != nil {
		con.fail(c, err)
		return
	}
	build, err := con.activeBuild(c, project, pol)
	if err != nil {
		con.fail(c, err)
		return
	}
	users, _, err := con.allUsers(ctx, org)
	if err != nil {
		con.fail(c, err)
		return
	}
	groups, _, err := con.allGroups(ctx, org)
	if err != nil {
		con.fail(c, err)
		return
	}
	con.render(c, http.StatusOK, "share", "Share "+project+" ("+env+")", "solutions", map[string]any{
		"Project": project, "Env": env, "Shares": shares, "Build": build, "Users": users, "Groups": groups})
}

// subjectOf reads a "user:<id>" or "group:<name>" form value.
func subjectOf(v string) (orgdoc.Subject, error) {
	if id, ok := strings.CutPrefix(v, "user:"); ok && id != "" {
		return orgdoc.Subject{User: id}, nil
	}
	if g, ok := strings.CutPrefix(v, "group:"); ok && g != "" {
		return orgdoc.Subject{Group: g}, nil
	}
	return orgdoc.Subject{}, verr.New(verr.InvalidInput, "subject", "choose a user or a group")
}

func (con *Console) putShare(c *gin.Context) {
	project, env := c.Param("project"), c.Param("env")
	target := solutionPath(c, "share")
	if err := con.check(c, "project", project, "manage_access"); err != nil {
		back(c, target, err, "")
		return
	}
	subj, err := subjectOf(c.PostForm("subject"))
	if err != nil {
		back(c, target, err, "")
		return
	}
	roles := c.PostFormArray("roles")
	if len(roles) == 0 {
		back(c, target, verr.New(verr.InvalidInput, "roles", "choose at least one role (to remove a share, use Remove)"), "")
		return
	}
	_, _, _, err = con.dom.PutShare(c.Request.Context(), sessionOf(c).Org, project, env, orgdoc.Share{Subject: subj, Roles: roles}, "", actor(c))
	con.wrote(c, err)
	back(c, target, err, "Shared "+strings.Join(roles, ", ")+" with "+subjectLabel(subj)+" on "+project+" in "+env+".")
}

func subjectLabel(s orgdoc.Subject) string {
	if s.Group != "" {
		return "group " + s.Group
	}
	return "user " + s.User
}

func (con *Console) deleteShare(c *gin.Context) {
	project, env := c.Param("project"), c.Param("env")
	target := solutionPath(c, "share")
	if err := con.check(c, "project", project, "manage_access"); err != nil {
		back(c, target, err, "")
		return
	}
	subj, err := subjectOf(c.PostForm("subject"))
	if err != nil {
		back(c, target, err, "")
		return
	}
	_, err = con.dom.DeleteShare(c.Request.Context(), sessionOf(c).Org, project, env, subj, "", actor(c))
	con.wrote(c, err)
	back(c, target, err, "Share of "+subjectLabel(subj)+" removed.")
}

// overrideRow is an override as the Active Policy table shows it.
type overrideRow struct {
	domain.OverrideView
	Subject, Policy string
	Priority        string
}

func policyLabel(p orgdoc.Policy) string {
	if p.Build != "" {
		return "Build " + p.Build
	}
	return "Latest on branch " + p.LatestOnBranch
}

func (con *Console) policy(c *gin.Context) {
	project, env := c.Param("project"), c.Param("env")
	if err := con.check(c, "project", project, "read"); err != nil {
		con.fail(c, err)
		return
	}
	ctx, cancel := reqCtx(c)
	defer cancel()
	org := sessionOf(c).Org
	pol, err := con.envPolicy(c, project, env)
	if err != nil {
		con.fail(c, err)
		return
	}
	var rows []overrideRow
	if pol != nil {
		for _, o := range pol.Overrides {
			r := overrideRow{OverrideView: o, Policy: policyLabel(o.Policy)}
			switch o.Type {
			case orgdoc.OverrideUsername:
				r.Subject = o.Username
			case orgdoc.OverrideGroup:
				r.Subject = o.Group
			default:
				r.Subject = o.Role
			}
			if o.Priority != nil {
				r.Priority = strconv.Itoa(*o.Priority)
			}
			rows = append(rows, r)
		}
		// As the resolution reads them: username overrides first, then
		// group overrides by priority, then the deprecated role rows.
		rank := map[string]int{orgdoc.OverrideUsername: 0, orgdoc.OverrideGroup: 1, orgdoc.OverrideRole: 2}
		sort.SliceStable(rows, func(i, j int) bool {
			a, b := rows[i], rows[j]
			if rank[a.Type] != rank[b.Type] {
				return rank[a.Type] < rank[b.Type]
			}
			if a.Override.Priority != nil && b.Override.Priority != nil && *a.Override.Priority != *b.Override.Priority {
				return *a.Override.Priority < *b.Override.Priority
			}
			return a.Subject < b.Subject
		})
	}
	build, err := con.activeBuild(c, project, pol)
	if err != nil {
		con.fail(c, err)
		return
	}
	builds, _, err := listAll(listLimit, func(cur string) (domain.Page[domain.BuildSummary], error) {
		return con.dom.ListBuilds(ctx, org, project, cur, domain.MaxLimit)
	})
	if err != nil {
		con.fail(c, err)
		return
	}
	groups, _, err := con.allGroups(ctx, org)
	if err != nil {
		con.fail(c, err)
		return
	}
	var branches []string
	for _, b := range builds {
		if !slices.Contains(branches, b.Branch) {
			branches = append(branches, b.Branch)
		}
	}
	sort.Strings(branches)
	data := map[string]any{"Project": project, "Env": env, "Policy": pol, "Overrides": rows, "Build": build,
		"Builds": builds, "Branches": branches, "Groups": groups}
	if pol != nil {
		data["Default"] = policyLabel(pol.Default)
	}
	con.render(c, http.StatusOK, "policy", "Active Policy "+project+" ("+env+")", "solutions", data)
}

// policyFromForm reads policy_kind (build, branch) and its value.
func policyFromForm(c *gin.Context) (orgdoc.Policy, error) {
	switch c.PostForm("policy_kind") {
	case "build":
		return orgdoc.Policy{Build: c.PostForm("build")}, nil
	case "branch":
		return orgdoc.Policy{LatestOnBranch: c.PostForm("branch")}, nil
	}
	return orgdoc.Policy{}, verr.New(verr.InvalidInput, "policy", "choose Build or Latest on branch")
}

func (con *Console) putDefault(c *gin.Context) {
	project, env := c.Param("project"), c.Param("env")
	target := solutionPath(c, "policy")
	if err := con.check(c, "project", project, "change_active_policy"); err != nil {
		back(c, target, err, "")
		return
	}
	p, err := policyFromForm(c)
	if err == nil {
		_, _, err = con.dom.PutDefaultPolicy(c.Request.Context(), sessionOf(c).Org, project, env, p, "", actor(c))
	}
	con.wrote(c, err)
	back(c, target, err, "Default policy set: "+policyLabel(p)+".")
}

func (con *Console) putOverride(c *gin.Context) {
	project, env := c.Param("project"), c.Param("env")
	target := solutionPath(c, "policy")
	if err := con.check(c, "project", project, "change_active_policy"); err != nil {
		back(c, target, err, "")
		return
	}
	p, err := policyFromForm(c)
	if err != nil {
		back(c, target, err, "")
		return
	}
	ov := orgdoc.Override{Type: c.PostForm("type"), Policy: p}
	switch ov.Type {
	case orgdoc.OverrideUsername:
		ov.Username = strings.TrimSpace(c.PostForm("username"))
	case orgdoc.OverrideGroup:
		ov.Group = c.PostForm("group")
		n, err := strconv.Atoi(strings.TrimSpace(c.PostForm("priority")))
		if err != nil {
			back(c, target, verr.New(verr.InvalidInput, "priority", "a group override needs a whole-number priority (lower wins)"), "")
			return
		}
		ov.Priority = &n
	default:
		back(c, target, verr.New(verr.InvalidInput, "type", "choose Username or Group (role overrides are deprecated)"), "")
		return
	}
	_, _, err = con.dom.PutOverride(c.Request.Context(), sessionOf(c).Org, project, env, ov, "", actor(c))
	con.wrote(c, err)
	back(c, target, err, "Override saved.")
}

func (con *Console) deleteOverride(c *gin.Context) {
	project, env := c.Param("project"), c.Param("env")
	target := solutionPath(c, "policy")
	if err := con.check(c, "project", project, "change_active_policy"); err != nil {
		back(c, target, err, "")
		return
	}
	_, _, err := con.dom.DeleteOverride(c.Request.Context(), sessionOf(c).Org, project, env, c.PostForm("type"), c.PostForm("name"), "", actor(c))
	con.wrote(c, err)
	back(c, target, err, "Override deleted.")
}

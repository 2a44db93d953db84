package console

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/verdict-pdp/verdict/internal/admin/domain"
	"github.com/verdict-pdp/verdict/internal/assemble"
	"github.com/verdict-pdp/verdict/internal/decision"
	"github.com/verdict-pdp/verdict/internal/orgdoc"
	"github.com/verdict-pdp/verdict/internal/verr"
)

// "Test as a user": the manifest of a user, or of a hypothetical one, in a
// solution and environment, and what it becomes with a group joined or roles
// shared. Nothing is written: the what-if changes a copy of the facts of
// that one decision (pdp.Service.Simulate). Saving is a separate form that
// writes through the admin rules like every other.

// hypotheticalID is the id a hypothetical user is evaluated under (one no
// real user has: see whatIf.load).
const hypotheticalID = "hypothetical-user"

// whatIf is the simulator's form.
type whatIf struct {
	Project, Env string
	Who          string // "user:<id>" or "hypothetical"
	HypName      string
	HypAttrs     string // "key: v1, v2" per line
	HypGroups    []string
	AddGroup     string
	ShareTo      string // "", "user" or "group:<name>"
	ShareRoles   []string

	uid    string
	hyp    *orgdoc.User
	groups map[string]groupFacts
	policy *domain.ActivePolicy
}

// groupFacts is what a group brings a member in (project, env).
type groupFacts struct {
	attrs    map[string][]string
	share    []string
	override *orgdoc.Override
}

func (w *whatIf) hypothetical() bool { return w.Who == "hypothetical" }

func (w *whatIf) changes() bool {
	return w.AddGroup != "" || (w.ShareTo != "" && len(w.ShareRoles) > 0)
}

func readWhatIf(c *gin.Context) *whatIf {
	q := func(k string) string { return strings.TrimSpace(c.Query(k)) }
	return &whatIf{Project: q("project"), Env: q("env"), Who: q("who"), HypName: q("hyp_name"), HypAttrs: c.Query("hyp_attrs"),
		HypGroups: c.QueryArray("hyp_groups"), AddGroup: q("add_group"), ShareTo: q("share_to"), ShareRoles: c.QueryArray("share_roles")}
}

// parseAttrLines reads "key: v1, v2" lines.
func parseAttrLines(s string) (map[string][]string, error) {
	out := map[string][]string{}
	for _, line := range strings.Split(s, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return nil, verr.New(verr.InvalidInput, "hyp_attrs", "write each attribute as key: value1, value2 (line %q)", line)
		}
		for _, x := range strings.Split(v, ",") {
			if x = strings.TrimSpace(x); x != "" {
				out[k] = append(out[k], x)
			}
		}
	}
	return out, nil
}

// load reads what the what-if needs from the admin rules: the user (or the
// hypothetical one), the groups it involves with their share and override
// in (project, env), and the environment's active policy.
func (w *whatIf) load(ctx context.Context, con *Console, org string) error {
	dom := con.dom
	if w.hypothetical() {
		attrs, err := parseAttrLines(w.HypAttrs)
		if err != nil {
			return err
		}
		name := w.HypName
		if name == "" {
			name = "hypothetical"
		}
		w.uid = hypotheticalID
		for i := 2; ; i++ {
			_, err := dom.GetUser(ctx, org, w.uid)
			if verr.CodeOf(err) == verr.NotFound {
				break
			}
			if err != nil {
				return err
			}
			w.uid = hypotheticalID + "-" + strings.Repeat("x", i)
		}
		w.hyp = &orgdoc.User{ID: w.uid, Username: name, Status: orgdoc.StatusActive, Attributes: attrs}
	} else {
		id, ok := strings.CutPrefix(w.Who, "user:")
		if !ok || id == "" {
			return verr.New(verr.InvalidInput, "who", "choose a user, or a hypothetical one")
		}
		if _, err := dom.GetUser(ctx, org, id); err != nil {
			return err
		}
		w.uid = id
	}
	pol, err := dom.GetActivePolicy(ctx, org, w.Project, w.Env)
	switch {
	case err == nil:
		w.policy = &pol
	case verr.CodeOf(err) == verr.NotFound && verr.As(err).Field == "active_policy":
	default:
		return err
	}
	w.groups = map[string]groupFacts{}
	involved := slices.Clone(w.HypGroups)
	if w.AddGroup != "" {
		involved = append(involved, w.AddGroup)
	}
	if g, ok := strings.CutPrefix(w.ShareTo, "group:"); ok {
		involved = append(involved, g)
	}
	for _, g := range involved {
		if _, done := w.groups[g]; done || g == "" {
			continue
		}
		rec, err := dom.GetGroup(ctx, org, g)
		if err != nil {
			return err
		}
		gf := groupFacts{attrs: rec.Attributes}
		sh, err := dom.GetShare(ctx, org, w.Project, w.Env, orgdoc.Subject{Group: g})
		if err == nil {
			gf.share = sh.Roles
		} else if verr.CodeOf(err) != verr.NotFound {
			return err
		}
		if w.policy != nil {
			for _, o := range w.policy.Overrides {
				if o.Type == orgdoc.OverrideGroup && o.Group == g {
					gf.override = &o.Override
				}
			}
		}
		w.groups[g] = gf
	}
	return nil
}

// edit returns the change to the facts: the hypothetical user (always) and,
// with what, the group joined and the roles shared.
func (w *whatIf) edit(what bool) func(org map[string]any) error {
	return func(o map[string]any) error {
		if w.hyp != nil {
			sub(o, "users")[w.uid] = assemble.UserValue(*w.hyp)
			if w.policy != nil {
				for _, ov := range w.policy.Overrides {
					if ov.Type == orgdoc.OverrideUsername && ov.Username == w.hyp.Username {
						if ap := w.activePolicy(o); ap != nil {
							sub(ap, "username_overrides")[ov.Username] = assemble.PolicyValue(ov.Policy)
						}
					}
				}
			}
			for _, g := range w.HypGroups {
				w.join(o, g)
			}
		}
		if !what {
			return nil
		}
		if w.AddGroup != "" {
			w.join(o, w.AddGroup)
		}
		if w.ShareTo != "" && len(w.ShareRoles) > 0 {
			env := w.envOf(o)
			if env == nil {
				return nil
			}
			shares := sub(env, "shares")
			if g, ok := strings.CutPrefix(w.ShareTo, "group:"); ok {
				groups := sub(shares, "groups")
				groups[g] = union(groups[g], w.ShareRoles)
			} else {
				users := sub(shares, "users")
				users[w.uid] = union(users[w.uid], w.ShareRoles)
			}
		}
		return nil
	}
}

// join makes the user a member of g, with what g brings in (project, env).
func (w *whatIf) join(o map[string]any, g string) {
	gf, ok := w.groups[g]
	if !ok {
		return
	}
	ug := sub(o, "user_groups")
	ug[w.uid] = union(ug[w.uid], []string{g})
	sub(o, "groups")[g] = assemble.GroupValue(orgdoc.Group{Name: g, Attributes: gf.attrs})
	if env := w.envOf(o); env != nil && len(gf.share) > 0 {
		groups := sub(sub(env, "shares"), "groups")
		groups[g] = union(groups[g], gf.share)
	}
	if gf.override != nil {
		if ap := w.activePolicy(o); ap != nil {
			p := 0
			if gf.override.Priority != nil {
				p = *gf.override.Priority
			}
			sub(ap, "group_overrides")[g] = map[string]any{"priority": p, "policy": assemble.PolicyValue(gf.override.Policy)}
		}
	}
}

// envOf is the facts' (project, env) settings; nil when the project is not
// in the facts (unknown).
func (w *whatIf) envOf(o map[string]any) map[string]any {
	p, ok := sub(o, "projects")[w.Project].(map[string]any)
	if !ok {
		return nil
	}
	return sub(sub(p, "environments"), w.Env)
}

func (w *whatIf) activePolicy(o map[string]any) map[string]any {
	env := w.envOf(o)
	if env == nil {
		return nil
	}
	ap, _ := env["active_policy"].(map[string]any)
	return ap
}

// sub is m[k] as an object, made when absent.
func sub(m map[string]any, k string) map[string]any {
	if x, ok := m[k].(map[string]any); ok {
		return x
	}
	x := map[string]any{}
	m[k] = x
	return x
}

// union adds xs to a JSON list of strings, keeping it sorted and distinct.
func union(list any, xs []string) []any {
	set := map[string]bool{}
	if l, ok := list.([]any); ok {
		for _, x := range l {
			if s, ok := x.(string); ok {
				set[s] = true
			}
		}
	}
	for _, x := range xs {
		set[x] = true
	}
	keys := make([]string, 0, len(set))
	for k := range set {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]any, len(keys))
	for i, k := range keys {
		out[i] = k
	}
	return out
}

func (con *Console) simulate(c *gin.Context) {
	if err := con.check(c, "org", "", "org_runtime_users_read"); err != nil {
		con.fail(c, err)
		return
	}
	ctx, cancel := reqCtx(c)
	defer cancel()
	org := sessionOf(c).Org
	w := readWhatIf(c)
	sols, err := con.solutionList(c)
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
	if w.Project == "" && len(sols) > 0 {
		w.Project = sols[0].ID
	}
	if w.Env == "" {
		for _, s := range sols {
			if s.ID == w.Project && len(s.Envs) > 0 {
				w.Env = s.Envs[len(s.Envs)-1]
			}
		}
	}
	data := map[string]any{"W": w, "Solutions": sols, "Users": users, "Groups": groups}
	pol, err := con.envPolicy(c, w.Project, w.Env)
	if err == nil {
		var b *orgdoc.Build
		if b, err = con.activeBuild(c, w.Project, pol); err == nil && b != nil {
			data["Roles"] = b.Roles
			data["Build"] = b.ID
		}
	}
	if err != nil && verr.CodeOf(err) != verr.NotFound {
		con.fail(c, err)
		return
	}
	if w.Who == "" {
		con.render(c, http.StatusOK, "test", "Test as a user", "test", data)
		return
	}
	if err := w.load(ctx, con, org); err != nil {
		data["Problem"] = verr.As(err).Message
		con.render(c, http.StatusBadRequest, "test", "Test as a user", "test", data)
		return
	}
	req := decision.ManifestRequest{Org: org, User: w.uid, Project: w.Project, Environment: w.Env, Explain: true}
	before, err := con.cfg.PDP.Simulate(ctx, req, w.edit(false))
	if err != nil {
		con.fail(c, err)
		return
	}
	name := w.uid
	if w.hyp != nil {
		name = w.hyp.Username + " (hypothetical)"
	} else {
		for _, u := range users {
			if u.ID == w.uid {
				name = u.Username
			}
		}
	}
	data["Name"] = name
	data["Before"] = viewOf(before, name)
	if w.changes() {
		after, err := con.cfg.PDP.Simulate(ctx, req, w.edit(true))
		if err != nil {
			con.fail(c, err)
			return
		}
		data["After"] = viewOf(after, name)
		data["Diff"] = diff(before, after)
		data["SaveQuery"] = c.Request.URL.RawQuery
	}
	con.render(c, http.StatusOK, "test", "Test as a user", "test", data)
}

// saveWhatIf makes the simulated change for real, through the admin rules:
// the user joins the group, the roles are shared (added to the subject's
// share). Each is checked and audited like any other write.
func (con *Console) saveWhatIf(c *gin.Context) {
	q := c.PostForm("query")
	target := "/console/test?" + q
	vals, err := url.ParseQuery(q)
	if err != nil {
		back(c, "/console/test", verr.New(verr.InvalidInput, "query", "not a simulator query"), "")
		return
	}
	ctx := c.Request.Context()
	org := sessionOf(c).Org
	get := func(k string) string { return strings.TrimSpace(vals.Get(k)) }
	uid, _ := strings.CutPrefix(get("who"), "user:")
	var done []string
	switch c.PostForm("save") {
	case "group":
		g := get("add_group")
		if err := con.check(c, "org", "", "org_runtime_groups_write"); err != nil {
			back(c, target, err, "")
			return
		}
		if uid == "" || g == "" {
			back(c, target, verr.New(verr.InvalidInput, "add_group", "a hypothetical user cannot join a group: invite them first"), "")
			return
		}
		_, err = con.dom.AddMembers(ctx, org, g, []string{uid}, actor(c))
		done = append(done, uid+" added to group "+g)
	case "share":
		project, env := get("project"), get("env")
		if err := con.check(c, "project", project, "manage_access"); err != nil {
			back(c, target, err, "")
			return
		}
		subj := orgdoc.Subject{User: uid}
		if g, ok := strings.CutPrefix(get("share_to"), "group:"); ok {
			subj = orgdoc.Subject{Group: g}
		}
		if subj.User == "" && subj.Group == "" {
			back(c, target, verr.New(verr.InvalidInput, "share_to", "a hypothetical user cannot be shared a role: invite them first"), "")
			return
		}
		roles := vals["share_roles"]
		cur, gerr := con.dom.GetShare(ctx, org, project, env, subj)
		if gerr != nil && verr.CodeOf(gerr) != verr.NotFound {
			back(c, target, gerr, "")
			return
		}
		merged := []string{}
		for _, r := range union(anyList(cur.Roles), roles) {
			merged = append(merged, r.(string))
		}
		_, _, _, err = con.dom.PutShare(ctx, org, project, env, orgdoc.Share{Subject: subj, Roles: merged}, "", actor(c))
		done = append(done, "shared "+strings.Join(roles, ", ")+" with "+subjectLabel(subj)+" on "+project+" in "+env)
	default:
		err = verr.New(verr.InvalidInput, "save", "nothing to save")
	}
	con.wrote(c, err)
	// Back to the simulator without the what-if: what was saved is now the
	// real state.
	vals.Del("add_group")
	vals.Del("share_to")
	vals.Del("share_roles")
	if err != nil {
		back(c, target, err, "")
		return
	}
	back(c, "/console/test?"+vals.Encode(), nil, "Saved: "+strings.Join(done, "; ")+".")
}

func anyList(xs []string) []any {
	out := make([]any, len(xs))
	for i, x := range xs {
		out[i] = x
	}
	return out
}

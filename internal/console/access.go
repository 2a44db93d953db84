package console

import (
	"context"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/verdict-pdp/verdict/internal/admin/domain"
	"github.com/verdict-pdp/verdict/internal/orgdoc"
	"github.com/verdict-pdp/verdict/internal/verr"
)

// Organization Settings → Access Management: End-Users, End-Users Roles,
// End-Users Groups.

func (con *Console) routes(g gin.IRouter) {
	g.GET("/", con.home)
	g.GET("/users", con.users)
	g.POST("/users", con.inviteUser)
	g.GET("/users/:user", con.user)
	g.POST("/users/:user/status", con.userStatus)
	g.POST("/users/:user/attributes", con.userAttributes)
	g.GET("/roles", con.roles)
	g.POST("/roles", con.createRole)
	g.POST("/roles/:role/delete", con.deleteRole)
	g.GET("/groups", con.groups)
	g.POST("/groups", con.createGroup)
	g.GET("/groups/:group", con.group)
	g.POST("/groups/:group/members", con.addMember)
	g.POST("/groups/:group/members/remove", con.removeMember)
	g.POST("/groups/:group/attributes", con.groupAttributes)
	g.GET("/solutions", con.solutions)
	g.GET("/solutions/:project/:env/share", con.share)
	g.POST("/solutions/:project/:env/share", con.putShare)
	g.POST("/solutions/:project/:env/share/delete", con.deleteShare)
	g.GET("/solutions/:project/:env/policy", con.policy)
	g.POST("/solutions/:project/:env/policy/default", con.putDefault)
	g.POST("/solutions/:project/:env/policy/override", con.putOverride)
	g.POST("/solutions/:project/:env/policy/override/delete", con.deleteOverride)
	g.GET("/audit", con.audit)
	g.GET("/test", con.simulate)
	g.POST("/test/save", con.saveWhatIf)
}

// allUsers lists org's end users, up to listLimit (more: there are others).
func (con *Console) allUsers(ctx context.Context, org string) (users []orgdoc.User, more bool, err error) {
	return listAll(listLimit, func(cur string) (domain.Page[orgdoc.User], error) {
		return con.dom.ListUsers(ctx, org, cur, domain.MaxLimit)
	})
}

// allGroups lists org's end-user groups, up to listLimit.
func (con *Console) allGroups(ctx context.Context, org string) (groups []domain.GroupRecord, more bool, err error) {
	return listAll(listLimit, func(cur string) (domain.Page[domain.GroupRecord], error) {
		return con.dom.ListGroups(ctx, org, cur, domain.MaxLimit)
	})
}

// listAll reads every page of a list (the console shows orgs an admin reads
// on one screen; lists stop at limit entries).
func listAll[T any](limit int, read func(cursor string) (domain.Page[T], error)) ([]T, bool, error) {
	var out []T
	cursor := ""
	for {
		p, err := read(cursor)
		if err != nil {
			return nil, false, err
		}
		out = append(out, p.Items...)
		if p.NextCursor == "" {
			return out, false, nil
		}
		if len(out) >= limit {
			return out[:limit], true, nil
		}
		cursor = p.NextCursor
	}
}

const listLimit = 2000

func (con *Console) home(c *gin.Context) {
	con.render(c, http.StatusOK, "home", "Access Management", "home", nil)
}

// parseAttributes reads attribute rows: attr_key[i] with attr_values[i], the
// values comma-separated (as FlowX's "Add attribute" asks). Empty rows are
// skipped.
func parseAttributes(c *gin.Context) (map[string][]string, error) {
	keys, vals := c.PostFormArray("attr_key"), c.PostFormArray("attr_values")
	out := map[string][]string{}
	for i, k := range keys {
		k = strings.TrimSpace(k)
		v := ""
		if i < len(vals) {
			v = vals[i]
		}
		if k == "" {
			if strings.TrimSpace(v) != "" {
				return nil, verr.New(verr.InvalidInput, "attributes", "values %q have no key", v)
			}
			continue
		}
		var list []string
		for _, x := range strings.Split(v, ",") {
			if x = strings.TrimSpace(x); x != "" {
				list = append(list, x)
			}
		}
		if len(list) == 0 {
			return nil, verr.New(verr.InvalidInput, "attributes", "attribute %q has no value", k)
		}
		out[k] = append(out[k], list...)
	}
	return out, nil
}

type attrRow struct{ Key, Values string }

// attrRows lists attributes as form rows, plus empty ones to add more.
func attrRows(a map[string][]string, blank int) []attrRow {
	var out []attrRow
	keys := make([]string, 0, len(a))
	for k := range a {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		out = append(out, attrRow{k, strings.Join(a[k], ", ")})
	}
	for range blank {
		out = append(out, attrRow{})
	}
	return out
}

// End-Users.

type userRow struct {
	orgdoc.User
	LastSeen string
}

func (con *Console) users(c *gin.Context) {
	if err := con.check(c, "org", "", "org_runtime_users_read"); err != nil {
		con.fail(c, err)
		return
	}
	ctx, cancel := reqCtx(c)
	defer cancel()
	org := sessionOf(c).Org
	list, more, err := con.allUsers(ctx, org)
	if err != nil {
		con.fail(c, err)
		return
	}
	ids := make([]string, len(list))
	for i, u := range list {
		ids[i] = u.ID
	}
	seen := map[string]string{}
	if len(ids) > 0 {
		if seen, err = con.cfg.Store.LastSeenOf(ctx, org, ids...); err != nil {
			con.fail(c, err)
			return
		}
	}
	rows := make([]userRow, len(list))
	for i, u := range list {
		rows[i] = userRow{User: u, LastSeen: seen[u.ID]}
	}
	con.render(c, http.StatusOK, "users", "End-Users", "users", map[string]any{"Users": rows, "More": more, "Blank": attrRows(nil, 2)})
}

func (con *Console) inviteUser(c *gin.Context) {
	if err := con.check(c, "org", "", "org_runtime_users_write"); err != nil {
		back(c, "/console/users", err, "")
		return
	}
	attrs, err := parseAttributes(c)
	if err != nil {
		back(c, "/console/users", err, "")
		return
	}
	u := orgdoc.User{ID: strings.TrimSpace(c.PostForm("id")), Username: strings.TrimSpace(c.PostForm("username")),
		Email: strings.TrimSpace(c.PostForm("email")), Status: orgdoc.StatusInvited, Attributes: attrs,
		DesignerUser: c.PostForm("designer_user") == "on"}
	if len(attrs) == 0 {
		u.Attributes = nil
	}
	_, _, err = con.dom.CreateUser(c.Request.Context(), sessionOf(c).Org, u, actor(c))
	con.wrote(c, err)
	back(c, "/console/users", err, "Invited "+u.Username+" ("+u.ID+"): activate them once they have signed in.")
}

func (con *Console) user(c *gin.Context) {
	if err := con.check(c, "org", "", "org_runtime_users_read"); err != nil {
		con.fail(c, err)
		return
	}
	ctx, cancel := reqCtx(c)
	defer cancel()
	org := sessionOf(c).Org
	u, err := con.dom.GetUser(ctx, org, c.Param("user"))
	if err != nil {
		con.fail(c, err)
		return
	}
	seen, err := con.cfg.Store.LastSeenOf(ctx, org, u.ID)
	if err != nil {
		con.fail(c, err)
		return
	}
	groups, err := con.groupsOf(c, org, u.ID)
	if err != nil {
		con.fail(c, err)
		return
	}
	con.render(c, http.StatusOK, "user", "End-User "+u.Username, "users", map[string]any{
		"User": u, "LastSeen": seen[u.ID], "Groups": groups, "Attrs": attrRows(u.Attributes, 2)})
}

// groupsOf lists the groups a user is a member of.
func (con *Console) groupsOf(c *gin.Context, org, uid string) ([]string, error) {
	ctx := c.Request.Context()
	all, _, err := con.allGroups(ctx, org)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, g := range all {
		members, _, err := listAll(100000, func(cur string) (domain.Page[string], error) {
			return con.dom.ListMembers(ctx, org, g.Name, cur, domain.MaxLimit)
		})
		if err != nil {
			return nil, err
		}
		for _, m := range members {
			if m == uid {
				out = append(out, g.Name)
				break
			}
		}
	}
	return out, nil
}

func (con *Console) userStatus(c *gin.Context) {
	target := "/console/users/" + url.PathEscape(c.Param("user"))
	if c.PostForm("from") == "list" {
		target = "/console/users"
	}
	if err := con.check(c, "org", "", "org_runtime_users_write"); err != nil {
		back(c, target, err, "")
		return
	}
	status := orgdoc.StatusActive
	if c.PostForm("action") == "disable" {
		status = orgdoc.StatusDisabled
	}
	u, _, err := con.dom.SetUserStatus(c.Request.Context(), sessionOf(c).Org, c.Param("user"), status, "", actor(c))
	con.wrote(c, err)
	back(c, target, err, u.Username+" is now "+status+".")
}

func (con *Console) userAttributes(c *gin.Context) {
	target := "/console/users/" + url.PathEscape(c.Param("user"))
	if err := con.check(c, "org", "", "org_runtime_users_write"); err != nil {
		back(c, target, err, "")
		return
	}
	attrs, err := parseAttributes(c)
	if err != nil {
		back(c, target, err, "")
		return
	}
	_, _, err = con.dom.UpdateUser(c.Request.Context(), sessionOf(c).Org, c.Param("user"), domain.UserPatch{Attributes: &attrs}, "", actor(c))
	con.wrote(c, err)
	back(c, target, err, "Attributes saved.")
}

// wrote drops this PDP's cached facts of the org after a write that landed.
func (con *Console) wrote(c *gin.Context, err error) {
	if err == nil {
		con.cfg.Invalidate(sessionOf(c).Org)
	}
}

// End-Users Roles.

func (con *Console) roles(c *gin.Context) {
	if err := con.check(c, "org", "", "org_runtime_roles_read"); err != nil {
		con.fail(c, err)
		return
	}
	ctx, cancel := reqCtx(c)
	defer cancel()
	org := sessionOf(c).Org
	list, more, err := listAll(listLimit, func(cur string) (domain.Page[orgdoc.Role], error) {
		return con.dom.ListRoles(ctx, org, cur, domain.MaxLimit)
	})
	if err != nil {
		con.fail(c, err)
		return
	}
	con.render(c, http.StatusOK, "roles", "End-Users Roles", "roles", map[string]any{"Roles": list, "More": more})
}

func (con *Console) createRole(c *gin.Context) {
	if err := con.check(c, "org", "", "org_runtime_roles_write"); err != nil {
		back(c, "/console/roles", err, "")
		return
	}
	r := orgdoc.Role{Name: strings.TrimSpace(c.PostForm("name")), Description: strings.TrimSpace(c.PostForm("description"))}
	_, _, err := con.dom.CreateRole(c.Request.Context(), sessionOf(c).Org, r, actor(c))
	con.wrote(c, err)
	back(c, "/console/roles", err, "Role "+r.Name+" created.")
}

func (con *Console) deleteRole(c *gin.Context) {
	if err := con.check(c, "org", "", "org_runtime_roles_write"); err != nil {
		back(c, "/console/roles", err, "")
		return
	}
	_, err := con.dom.DeleteRole(c.Request.Context(), sessionOf(c).Org, c.Param("role"), "", actor(c))
	con.wrote(c, err)
	back(c, "/console/roles", err, "Role "+c.Param("role")+" deleted, and removed from every share, grant and flow permission.")
}

// End-Users Groups.

type groupRow struct {
	domain.GroupRecord
	Members int
}

func (con *Console) groups(c *gin.Context) {
	if err := con.check(c, "org", "", "org_runtime_groups_read"); err != nil {
		con.fail(c, err)
		return
	}
	ctx, cancel := reqCtx(c)
	defer cancel()
	org := sessionOf(c).Org
	list, more, err := con.allGroups(ctx, org)
	if err != nil {
		con.fail(c, err)
		return
	}
	con.render(c, http.StatusOK, "groups", "End-Users Groups", "groups", map[string]any{"Groups": list, "More": more, "Blank": attrRows(nil, 2)})
}

func (con *Console) createGroup(c *gin.Context) {
	if err := con.check(c, "org", "", "org_runtime_groups_write"); err != nil {
		back(c, "/console/groups", err, "")
		return
	}
	attrs, err := parseAttributes(c)
	if err != nil {
		back(c, "/console/groups", err, "")
		return
	}
	g := domain.GroupRecord{Name: strings.TrimSpace(c.PostForm("name")), Attributes: attrs}
	if len(attrs) == 0 {
		g.Attributes = nil
	}
	_, _, err = con.dom.CreateGroup(c.Request.Context(), sessionOf(c).Org, g, actor(c))
	con.wrote(c, err)
	if err != nil {
		back(c, "/console/groups", err, "")
		return
	}
	back(c, "/console/groups/"+url.PathEscape(g.Name), nil, "Group "+g.Name+" created. Add members here; give it roles per solution and environment in the Share dialog.")
}

// shareOf is a group's (or user's) roles in one solution and environment.
type shareOf struct {
	Project, Env string
	Roles        []string
}

func (con *Console) group(c *gin.Context) {
	if err := con.check(c, "org", "", "org_runtime_groups_read"); err != nil {
		con.fail(c, err)
		return
	}
	ctx, cancel := reqCtx(c)
	defer cancel()
	org := sessionOf(c).Org
	g, err := con.dom.GetGroup(ctx, org, c.Param("group"))
	if err != nil {
		con.fail(c, err)
		return
	}
	members, more, err := listAll(listLimit, func(cur string) (domain.Page[string], error) {
		return con.dom.ListMembers(ctx, org, g.Name, cur, domain.MaxLimit)
	})
	if err != nil {
		con.fail(c, err)
		return
	}
	users, _, err := con.allUsers(ctx, org)
	if err != nil {
		con.fail(c, err)
		return
	}
	shares, err := con.sharesOf(c, orgdoc.Subject{Group: g.Name})
	if err != nil {
		con.fail(c, err)
		return
	}
	con.render(c, http.StatusOK, "group", "End-Users Group "+g.Name, "groups", map[string]any{
		"Group": g, "Members": members, "More": more, "Users": users, "Shares": shares, "Attrs": attrRows(g.Attributes, 2)})
}

// sharesOf lists the roles a subject is given, in every solution and
// environment: a group's roles are per solution and environment (5.8+).
func (con *Console) sharesOf(c *gin.Context, subj orgdoc.Subject) ([]shareOf, error) {
	ctx := c.Request.Context()
	org := sessionOf(c).Org
	sols, err := con.solutionList(c)
	if err != nil {
		return nil, err
	}
	var out []shareOf
	for _, s := range sols {
		for _, env := range s.Envs {
			sh, err := con.dom.GetShare(ctx, org, s.ID, env, subj)
			if verr.CodeOf(err) == verr.NotFound {
				continue
			}
			if err != nil {
				return nil, err
			}
			out = append(out, shareOf{Project: s.ID, Env: env, Roles: sh.Roles})
		}
	}
	return out, nil
}

func (con *Console) addMember(c *gin.Context) {
	target := "/console/groups/" + url.PathEscape(c.Param("group"))
	if err := con.check(c, "org", "", "org_runtime_groups_write"); err != nil {
		back(c, target, err, "")
		return
	}
	user := c.PostForm("user")
	_, err := con.dom.AddMembers(c.Request.Context(), sessionOf(c).Org, c.Param("group"), []string{user}, actor(c))
	con.wrote(c, err)
	back(c, target, err, user+" added to "+c.Param("group")+".")
}

func (con *Console) removeMember(c *gin.Context) {
	target := "/console/groups/" + url.PathEscape(c.Param("group"))
	if err := con.check(c, "org", "", "org_runtime_groups_write"); err != nil {
		back(c, target, err, "")
		return
	}
	user := c.PostForm("user")
	_, err := con.dom.RemoveMember(c.Request.Context(), sessionOf(c).Org, c.Param("group"), user, actor(c))
	con.wrote(c, err)
	back(c, target, err, user+" removed from "+c.Param("group")+".")
}

func (con *Console) groupAttributes(c *gin.Context) {
	target := "/console/groups/" + url.PathEscape(c.Param("group"))
	if err := con.check(c, "org", "", "org_runtime_groups_write"); err != nil {
		back(c, target, err, "")
		return
	}
	attrs, err := parseAttributes(c)
	if err != nil {
		back(c, target, err, "")
		return
	}
	_, _, err = con.dom.UpdateGroup(c.Request.Context(), sessionOf(c).Org, c.Param("group"), domain.GroupPatch{Attributes: &attrs}, "", actor(c))
	con.wrote(c, err)
	back(c, target, err, "Attributes saved.")
}

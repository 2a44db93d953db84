package admin

import (
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/verdict-pdp/verdict/internal/admin/domain"
	"github.com/verdict-pdp/verdict/internal/orgdoc"
)

// Shares (the Share modal) and the active policy of a project in one
// environment. Shares need the project's manage_access; the active policy
// needs change_active_policy (DESIGN.md §2 rule 9).

func (a *api) accessRoutes(g gin.IRouter) {
	const env = "/:org/projects/:project/environments/:env"
	g.GET(env+"/shares", a.handle(onProject(ProjectRead), a.listShares))
	for _, kind := range []string{"users", "groups"} {
		path := env + "/shares/" + kind + "/:subject"
		g.GET(path, a.handle(onProject(ProjectRead), a.getShare(kind)))
		g.PUT(path, a.handle(onProject(ManageAccess), a.putShare(kind)))
		g.DELETE(path, a.handle(onProject(ManageAccess), a.deleteShare(kind)))
	}
	g.GET(env+"/active-policy", a.handle(onProject(ProjectRead), a.getActivePolicy))
	g.DELETE(env+"/active-policy", a.handle(onProject(ChangeActivePolicy), a.deleteActivePolicy))
	g.PUT(env+"/active-policy/default", a.handle(onProject(ChangeActivePolicy), a.putDefault))
	g.PUT(env+"/active-policy/overrides/:type/:name", a.handle(onProject(ChangeActivePolicy), a.putOverride))
	g.DELETE(env+"/active-policy/overrides/:type/:name", a.handle(onProject(ChangeActivePolicy), a.deleteOverride))
}

type shareBody struct {
	Roles []string `json:"roles"`
}

// overrideBody is an override; its type and username or group are in the
// path.
type overrideBody struct {
	Priority *int          `json:"priority"`
	Policy   orgdoc.Policy `json:"policy"`
}

func subjectOf(kind, name string) domain.ShareSubject {
	if kind == "groups" {
		return domain.ShareSubject{Group: name}
	}
	return domain.ShareSubject{User: name}
}

func (a *api) listShares(c *call) error {
	cursor, limit, err := c.page()
	if err != nil {
		return err
	}
	return c.list(a.dom.ListShares(c.Request.Context(), c.org, c.Param("project"), c.Param("env"), cursor, limit))
}

func (a *api) getShare(kind string) func(c *call) error {
	return func(c *call) error {
		sh, err := a.dom.GetShare(c.Request.Context(), c.org, c.Param("project"), c.Param("env"), subjectOf(kind, c.Param("subject")))
		if err != nil {
			return err
		}
		return c.record(http.StatusOK, sh, 0)
	}
}

// putShare creates or replaces a share; a role the environment's active
// build does not list is a 422 whose "allowed" lists the build's roles.
func (a *api) putShare(kind string) func(c *call) error {
	return func(c *call) error {
		var b shareBody
		if err := c.decode(&b); err != nil {
			return err
		}
		sh := orgdoc.Share{Subject: subjectOf(kind, c.Param("subject")), Roles: b.Roles}
		sh, rev, isNew, err := a.dom.PutShare(c.Request.Context(), c.org, c.Param("project"), c.Param("env"), sh, c.ifMatch(), c.actor)
		if err != nil {
			return err
		}
		return c.record(created(isNew), sh, rev)
	}
}

func (a *api) deleteShare(kind string) func(c *call) error {
	return func(c *call) error {
		return c.done(a.dom.DeleteShare(c.Request.Context(), c.org, c.Param("project"), c.Param("env"),
			subjectOf(kind, c.Param("subject")), c.ifMatch(), c.actor))
	}
}

func (a *api) getActivePolicy(c *call) error {
	ap, err := a.dom.GetActivePolicy(c.Request.Context(), c.org, c.Param("project"), c.Param("env"))
	if err != nil {
		return err
	}
	return c.record(http.StatusOK, ap, 0)
}

func (a *api) putDefault(c *call) error {
	var p orgdoc.Policy
	if err := c.decode(&p); err != nil {
		return err
	}
	ap, rev, err := a.dom.PutDefaultPolicy(c.Request.Context(), c.org, c.Param("project"), c.Param("env"), p, c.ifMatch(), c.actor)
	if err != nil {
		return err
	}
	return c.record(http.StatusOK, ap, rev)
}

// overrideType maps the :type path segment to an override type.
func overrideType(c *call) string {
	switch t := c.Param("type"); t {
	case "usernames", "username":
		return orgdoc.OverrideUsername
	case "groups", "group":
		return orgdoc.OverrideGroup
	case "roles", "role":
		return orgdoc.OverrideRole
	default:
		return t
	}
}

func (a *api) putOverride(c *call) error {
	var b overrideBody
	if err := c.decode(&b); err != nil {
		return err
	}
	ov := orgdoc.Override{Type: overrideType(c), Priority: b.Priority, Policy: b.Policy}
	switch ov.Type {
	case orgdoc.OverrideUsername:
		ov.Username = c.Param("name")
	case orgdoc.OverrideGroup:
		ov.Group = c.Param("name")
	case orgdoc.OverrideRole:
		ov.Role = c.Param("name")
	}
	ap, rev, err := a.dom.PutOverride(c.Request.Context(), c.org, c.Param("project"), c.Param("env"), ov, c.ifMatch(), c.actor)
	if err != nil {
		return err
	}
	return c.record(http.StatusOK, ap, rev)
}

func (a *api) deleteOverride(c *call) error {
	ap, rev, err := a.dom.DeleteOverride(c.Request.Context(), c.org, c.Param("project"), c.Param("env"),
		overrideType(c), c.Param("name"), c.ifMatch(), c.actor)
	if err != nil {
		return err
	}
	return c.record(http.StatusOK, ap, rev)
}

func (a *api) deleteActivePolicy(c *call) error {
	return c.done(a.dom.DeleteActivePolicy(c.Request.Context(), c.org, c.Param("project"), c.Param("env"), c.ifMatch(), c.actor))
}

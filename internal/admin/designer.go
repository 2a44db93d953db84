package admin

import (
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/verdict-pdp/verdict/internal/orgdoc"
	"github.com/verdict-pdp/verdict/internal/verr"
)

// Designer (design-time) groups and role assignments. Assignments scoped
// to a project live under the project and need its manage_access (a
// project owner manages who works on the project); org- and
// workspace-scoped ones need org_runtime_users_write.

func (a *api) designerRoutes(g gin.IRouter) {
	g.GET("/:org/designer-groups", a.handle(onOrg(UsersRead), a.listDesignerGroups))
	g.POST("/:org/designer-groups", a.handle(onOrg(UsersWrite), a.createDesignerGroup))
	g.GET("/:org/designer-groups/:group", a.handle(onOrg(UsersRead), a.getDesignerGroup))
	g.DELETE("/:org/designer-groups/:group", a.handle(onOrg(UsersWrite), a.deleteDesignerGroup))
	g.GET("/:org/designer-groups/:group/members", a.handle(onOrg(UsersRead), a.listDesignerMembers))
	g.POST("/:org/designer-groups/:group/members", a.handle(onOrg(UsersWrite), a.addDesignerMembers))
	g.DELETE("/:org/designer-groups/:group/members/:user", a.handle(onOrg(UsersWrite), a.removeDesignerMember))

	g.GET("/:org/designer-roles", a.handle(onOrg(UsersRead), a.listDesignerRoles(false)))
	g.POST("/:org/designer-roles", a.handle(onOrg(UsersWrite), a.assignDesignerRole(false)))
	g.GET("/:org/designer-roles/:id", a.handle(onOrg(UsersRead), a.getDesignerRole(false)))
	g.DELETE("/:org/designer-roles/:id", a.handle(onOrg(UsersWrite), a.unassignDesignerRole(false)))

	g.GET("/:org/projects/:project/designer-roles", a.handle(onProject(ProjectRead), a.listDesignerRoles(true)))
	g.POST("/:org/projects/:project/designer-roles", a.handle(onProject(ManageAccess), a.assignDesignerRole(true)))
	g.GET("/:org/projects/:project/designer-roles/:id", a.handle(onProject(ProjectRead), a.getDesignerRole(true)))
	g.DELETE("/:org/projects/:project/designer-roles/:id", a.handle(onProject(ManageAccess), a.unassignDesignerRole(true)))
	g.POST("/:org/projects/:project/owner", a.handle(onProject(ManageAccess), a.transferOwner))
}

type designerGroupBody struct {
	Name    string   `json:"name"`
	Members []string `json:"members"`
}

// designerRoleBody assigns a designer role; on a project's route the scope
// is the project and may be left out.
type designerRoleBody struct {
	Subject orgdoc.Subject `json:"subject"`
	Role    string         `json:"role"`
	Scope   *orgdoc.Scope  `json:"scope"`
}

type ownerBody struct {
	User string `json:"user"`
}

func (a *api) listDesignerGroups(c *call) error {
	cursor, limit, err := c.page()
	if err != nil {
		return err
	}
	return c.list(a.dom.ListDesignerGroups(c.Request.Context(), c.org, cursor, limit))
}

func (a *api) getDesignerGroup(c *call) error {
	g, err := a.dom.GetDesignerGroup(c.Request.Context(), c.org, c.Param("group"))
	if err != nil {
		return err
	}
	return c.record(http.StatusOK, g, 0)
}

func (a *api) createDesignerGroup(c *call) error {
	var b designerGroupBody
	if err := c.decode(&b); err != nil {
		return err
	}
	g, rev, err := a.dom.CreateDesignerGroup(c.Request.Context(), c.org, b.Name, b.Members, c.actor)
	if err != nil {
		return err
	}
	return c.record(http.StatusCreated, g, rev)
}

func (a *api) deleteDesignerGroup(c *call) error {
	return c.done(a.dom.DeleteDesignerGroup(c.Request.Context(), c.org, c.Param("group"), c.ifMatch(), c.actor))
}

func (a *api) listDesignerMembers(c *call) error {
	cursor, limit, err := c.page()
	if err != nil {
		return err
	}
	return c.list(a.dom.ListDesignerMembers(c.Request.Context(), c.org, c.Param("group"), cursor, limit))
}

func (a *api) addDesignerMembers(c *call) error {
	var b membersBody
	if err := c.decode(&b); err != nil {
		return err
	}
	return c.done(a.dom.AddDesignerMembers(c.Request.Context(), c.org, c.Param("group"), b.Users, c.actor))
}

func (a *api) removeDesignerMember(c *call) error {
	return c.done(a.dom.RemoveDesignerMember(c.Request.Context(), c.org, c.Param("group"), c.Param("user"), c.actor))
}

// project is the route's project, "" on org-level routes.
func project(c *call, onProject bool) string {
	if onProject {
		return c.Param("project")
	}
	return ""
}

func (a *api) listDesignerRoles(onProject bool) func(c *call) error {
	return func(c *call) error {
		cursor, limit, err := c.page()
		if err != nil {
			return err
		}
		return c.list(a.dom.ListDesignerRoles(c.Request.Context(), c.org, project(c, onProject), cursor, limit))
	}
}

func (a *api) getDesignerRole(onProject bool) func(c *call) error {
	return func(c *call) error {
		id, err := c.positionParam("id")
		if err != nil {
			return err
		}
		da, err := a.dom.GetDesignerRole(c.Request.Context(), c.org, project(c, onProject), id)
		if err != nil {
			return err
		}
		return c.record(http.StatusOK, da, 0)
	}
}

// assignDesignerRole assigns a role. The org route takes org and workspace
// scopes only, so that a project's team is always changed under the
// project's own permission.
func (a *api) assignDesignerRole(onProject bool) func(c *call) error {
	return func(c *call) error {
		var b designerRoleBody
		if err := c.decode(&b); err != nil {
			return err
		}
		dr := orgdoc.DesignerRole{Subject: b.Subject, Role: b.Role}
		if b.Scope != nil {
			dr.Scope = *b.Scope
		}
		if onProject {
			if b.Scope != nil && *b.Scope != (orgdoc.Scope{Project: c.Param("project")}) {
				return verr.New(verr.InvalidInput, "scope", "the scope of an assignment under a project is that project")
			}
			dr.Scope = orgdoc.Scope{Project: c.Param("project")}
		} else if dr.Scope.Project != "" {
			return verr.New(verr.InvalidInput, "scope.project", "assign project roles under /projects/%s/designer-roles", dr.Scope.Project)
		}
		da, rev, err := a.dom.AssignDesignerRole(c.Request.Context(), c.org, dr, c.actor)
		if err != nil {
			return err
		}
		return c.record(http.StatusCreated, da, rev)
	}
}

func (a *api) unassignDesignerRole(onProject bool) func(c *call) error {
	return func(c *call) error {
		id, err := c.positionParam("id")
		if err != nil {
			return err
		}
		return c.done(a.dom.UnassignDesignerRole(c.Request.Context(), c.org, project(c, onProject), id, c.ifMatch(), c.actor))
	}
}

// transferOwner makes body.user the project's one project_owner.
func (a *api) transferOwner(c *call) error {
	var b ownerBody
	if err := c.decode(&b); err != nil {
		return err
	}
	da, rev, err := a.dom.TransferProjectOwner(c.Request.Context(), c.org, c.Param("project"), b.User, c.actor)
	if err != nil {
		return err
	}
	return c.record(http.StatusOK, da, rev)
}

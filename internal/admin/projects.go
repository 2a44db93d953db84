package admin

import (
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/verdict-pdp/verdict/internal/orgdoc"
)

// Projects, their immutable builds, their flow permissions, and business
// filters. Creating or deleting a project is an org-level act (it changes
// what exists), so it needs org_runtime_users_write; reading one project is
// a project read.

func (a *api) projectRoutes(g gin.IRouter) {
	g.GET("/:org/projects", a.handle(onOrg(UsersRead), a.listProjects))
	g.POST("/:org/projects", a.handle(onOrg(UsersWrite), a.createProject))
	g.GET("/:org/projects/:project", a.handle(onProject(ProjectRead), a.getProject))
	g.DELETE("/:org/projects/:project", a.handle(onOrg(UsersWrite), a.deleteProject))

	g.GET("/:org/projects/:project/builds", a.handle(onProject(ProjectRead), a.listBuilds))
	g.POST("/:org/projects/:project/builds", a.handle(onProject(CreateBuild), a.importBuild))
	g.GET("/:org/projects/:project/builds/:build", a.handle(onProject(ProjectRead), a.getBuild))

	g.GET("/:org/projects/:project/flow-permissions", a.handle(onProject(ProjectRead), a.getFlowPermissions))
	g.PUT("/:org/projects/:project/flow-permissions", a.handle(onProject(ManageAccess), a.putFlowPermissions))

	g.GET("/:org/business-filters", a.handle(onOrg(UsersRead), a.listFilters))
	g.GET("/:org/business-filters/:filter", a.handle(onOrg(UsersRead), a.getFilter))
	g.PUT("/:org/business-filters/:filter", a.handle(onOrg(UsersWrite), a.putFilter))
	g.DELETE("/:org/business-filters/:filter", a.handle(onOrg(UsersWrite), a.deleteFilter))
}

type projectBody struct {
	ID        string `json:"id"`
	Workspace string `json:"workspace"`
}

func (a *api) listProjects(c *call) error {
	cursor, limit, err := c.page()
	if err != nil {
		return err
	}
	return c.list(a.dom.ListProjects(c.Request.Context(), c.org, cursor, limit))
}

func (a *api) getProject(c *call) error {
	p, err := a.dom.GetProject(c.Request.Context(), c.org, c.Param("project"))
	if err != nil {
		return err
	}
	return c.record(http.StatusOK, p, 0)
}

func (a *api) createProject(c *call) error {
	var b projectBody
	if err := c.decode(&b); err != nil {
		return err
	}
	p, rev, err := a.dom.CreateProject(c.Request.Context(), c.org, b.ID, b.Workspace, c.actor)
	if err != nil {
		return err
	}
	return c.record(http.StatusCreated, p, rev)
}

func (a *api) deleteProject(c *call) error {
	return c.done(a.dom.DeleteProject(c.Request.Context(), c.org, c.Param("project"), c.ifMatch(), c.actor))
}

func (a *api) listBuilds(c *call) error {
	cursor, limit, err := c.page()
	if err != nil {
		return err
	}
	return c.list(a.dom.ListBuilds(c.Request.Context(), c.org, c.Param("project"), cursor, limit))
}

func (a *api) getBuild(c *call) error {
	b, err := a.dom.GetBuild(c.Request.Context(), c.org, c.Param("project"), c.Param("build"))
	if err != nil {
		return err
	}
	return c.record(http.StatusOK, b, 0)
}

// importBuild adds a build (the manifest is orgdoc's Build).
func (a *api) importBuild(c *call) error {
	var b orgdoc.Build
	if err := c.decode(&b); err != nil {
		return err
	}
	b, rev, err := a.dom.ImportBuild(c.Request.Context(), c.org, c.Param("project"), b, c.actor)
	if err != nil {
		return err
	}
	return c.record(http.StatusCreated, b, rev)
}

func (a *api) getFlowPermissions(c *call) error {
	fp, err := a.dom.GetFlowPermissions(c.Request.Context(), c.org, c.Param("project"))
	if err != nil {
		return err
	}
	return c.record(http.StatusOK, fp, 0)
}

func (a *api) putFlowPermissions(c *call) error {
	var fp orgdoc.FlowPermissions
	if err := c.decode(&fp); err != nil {
		return err
	}
	fp, rev, err := a.dom.PutFlowPermissions(c.Request.Context(), c.org, c.Param("project"), fp, c.ifMatch(), c.actor)
	if err != nil {
		return err
	}
	return c.record(http.StatusOK, fp, rev)
}

type filterBody struct {
	Field     string `json:"field"`
	Attribute string `json:"attribute"`
}

func (a *api) listFilters(c *call) error {
	cursor, limit, err := c.page()
	if err != nil {
		return err
	}
	return c.list(a.dom.ListFilters(c.Request.Context(), c.org, cursor, limit))
}

func (a *api) getFilter(c *call) error {
	f, err := a.dom.GetFilter(c.Request.Context(), c.org, c.Param("filter"))
	if err != nil {
		return err
	}
	return c.record(http.StatusOK, f, 0)
}

func (a *api) putFilter(c *call) error {
	var b filterBody
	if err := c.decode(&b); err != nil {
		return err
	}
	f := orgdoc.BusinessFilter{ID: c.Param("filter"), Field: b.Field, Attribute: b.Attribute}
	f, rev, isNew, err := a.dom.PutFilter(c.Request.Context(), c.org, f, c.ifMatch(), c.actor)
	if err != nil {
		return err
	}
	return c.record(created(isNew), f, rev)
}

func (a *api) deleteFilter(c *call) error {
	return c.done(a.dom.DeleteFilter(c.Request.Context(), c.org, c.Param("filter"), c.ifMatch(), c.actor))
}

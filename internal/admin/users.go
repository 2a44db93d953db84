package admin

import (
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/verdict-pdp/verdict/internal/admin/domain"
	"github.com/verdict-pdp/verdict/internal/orgdoc"
	"github.com/verdict-pdp/verdict/internal/verr"
)

// End users and the runtime role catalog.

func (a *api) userRoutes(g gin.IRouter) {
	g.GET("/:org/users", a.handle(onOrg(UsersRead), a.listUsers))
	g.POST("/:org/users", a.handle(onOrg(UsersWrite), a.createUser))
	g.GET("/:org/users/:user", a.handle(onOrg(UsersRead), a.getUser))
	g.PATCH("/:org/users/:user", a.handle(onOrg(UsersWrite), a.updateUser))
	g.DELETE("/:org/users/:user", a.handle(onOrg(UsersWrite), a.deleteUser))
	g.POST("/:org/users/:user/activate", a.handle(onOrg(UsersWrite), a.setStatus(orgdoc.StatusActive)))
	g.POST("/:org/users/:user/disable", a.handle(onOrg(UsersWrite), a.setStatus(orgdoc.StatusDisabled)))
}

func (a *api) roleRoutes(g gin.IRouter) {
	g.GET("/:org/roles", a.handle(onOrg(RolesRead), a.listRoles))
	g.POST("/:org/roles", a.handle(onOrg(RolesWrite), a.createRole))
	g.GET("/:org/roles/:role", a.handle(onOrg(RolesRead), a.getRole))
	g.PATCH("/:org/roles/:role", a.handle(onOrg(RolesWrite), a.updateRole))
	g.DELETE("/:org/roles/:role", a.handle(onOrg(RolesWrite), a.deleteRole))
}

// userBody creates a user. last_seen is the IdP's to say, not an admin's.
type userBody struct {
	ID             string              `json:"id"`
	Username       string              `json:"username"`
	Email          string              `json:"email"`
	Status         string              `json:"status"`
	DesignerUser   bool                `json:"designer_user"`
	Attributes     map[string][]string `json:"attributes"`
	ServiceAccount bool                `json:"service_account"`
}

// userPatchBody changes some fields of a user; absent members stay.
type userPatchBody struct {
	Username       *string              `json:"username"`
	Email          *string              `json:"email"`
	Attributes     *map[string][]string `json:"attributes"`
	DesignerUser   *bool                `json:"designer_user"`
	ServiceAccount *bool                `json:"service_account"`
}

func (a *api) listUsers(c *call) error {
	cursor, limit, err := c.page()
	if err != nil {
		return err
	}
	return c.list(a.dom.ListUsers(c.Request.Context(), c.org, cursor, limit))
}

func (a *api) getUser(c *call) error {
	u, err := a.dom.GetUser(c.Request.Context(), c.org, c.Param("user"))
	if err != nil {
		return err
	}
	return c.record(http.StatusOK, u, 0)
}

func (a *api) createUser(c *call) error {
	var b userBody
	if err := c.decode(&b); err != nil {
		return err
	}
	u := orgdoc.User{ID: b.ID, Username: b.Username, Email: b.Email, Status: b.Status,
		DesignerUser: b.DesignerUser, Attributes: b.Attributes, ServiceAccount: b.ServiceAccount}
	u, rev, err := a.dom.CreateUser(c.Request.Context(), c.org, u, c.actor)
	if err != nil {
		return err
	}
	return c.record(http.StatusCreated, u, rev)
}

func (a *api) updateUser(c *call) error {
	var b userPatchBody
	if err := c.decode(&b); err != nil {
		return err
	}
	p := domain.UserPatch{Username: b.Username, Email: b.Email, Attributes: b.Attributes,
		DesignerUser: b.DesignerUser, ServiceAccount: b.ServiceAccount}
	u, rev, err := a.dom.UpdateUser(c.Request.Context(), c.org, c.Param("user"), p, c.ifMatch(), c.actor)
	if err != nil {
		return err
	}
	return c.record(http.StatusOK, u, rev)
}

func (a *api) setStatus(status string) func(c *call) error {
	return func(c *call) error {
		var none struct{}
		if err := c.decodeOptional(&none); err != nil {
			return err
		}
		u, rev, err := a.dom.SetUserStatus(c.Request.Context(), c.org, c.Param("user"), status, c.ifMatch(), c.actor)
		if err != nil {
			return err
		}
		return c.record(http.StatusOK, u, rev)
	}
}

func (a *api) deleteUser(c *call) error {
	return c.done(a.dom.DeleteUser(c.Request.Context(), c.org, c.Param("user"), c.ifMatch(), c.actor))
}

type roleBody struct {
	Name        string `json:"name"`
	Description string `json:"description"`
}

type rolePatchBody struct {
	Description *string `json:"description"`
}

func (a *api) listRoles(c *call) error {
	cursor, limit, err := c.page()
	if err != nil {
		return err
	}
	return c.list(a.dom.ListRoles(c.Request.Context(), c.org, cursor, limit))
}

func (a *api) getRole(c *call) error {
	r, err := a.dom.GetRole(c.Request.Context(), c.org, c.Param("role"))
	if err != nil {
		return err
	}
	return c.record(http.StatusOK, r, 0)
}

func (a *api) createRole(c *call) error {
	var b roleBody
	if err := c.decode(&b); err != nil {
		return err
	}
	r, rev, err := a.dom.CreateRole(c.Request.Context(), c.org, orgdoc.Role{Name: b.Name, Description: b.Description}, c.actor)
	if err != nil {
		return err
	}
	return c.record(http.StatusCreated, r, rev)
}

func (a *api) updateRole(c *call) error {
	var b rolePatchBody
	if err := c.decode(&b); err != nil {
		return err
	}
	if b.Description == nil {
		return verr.New(verr.InvalidInput, "description", "description is required (the only field a role update changes)")
	}
	r, rev, err := a.dom.UpdateRole(c.Request.Context(), c.org, c.Param("role"), *b.Description, c.ifMatch(), c.actor)
	if err != nil {
		return err
	}
	return c.record(http.StatusOK, r, rev)
}

func (a *api) deleteRole(c *call) error {
	return c.done(a.dom.DeleteRole(c.Request.Context(), c.org, c.Param("role"), c.ifMatch(), c.actor))
}

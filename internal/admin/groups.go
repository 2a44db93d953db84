package admin

import (
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/verdict-pdp/verdict/internal/admin/domain"
)

// Runtime groups and their members.

func (a *api) groupRoutes(g gin.IRouter) {
	g.GET("/:org/groups", a.handle(onOrg(GroupsRead), a.listGroups))
	g.POST("/:org/groups", a.handle(onOrg(GroupsWrite), a.createGroup))
	g.GET("/:org/groups/:group", a.handle(onOrg(GroupsRead), a.getGroup))
	g.PATCH("/:org/groups/:group", a.handle(onOrg(GroupsWrite), a.updateGroup))
	g.DELETE("/:org/groups/:group", a.handle(onOrg(GroupsWrite), a.deleteGroup))
	g.GET("/:org/groups/:group/members", a.handle(onOrg(GroupsRead), a.listMembers))
	g.POST("/:org/groups/:group/members", a.handle(onOrg(GroupsWrite), a.addMembers))
	g.DELETE("/:org/groups/:group/members/:user", a.handle(onOrg(GroupsWrite), a.removeMember))
}

type groupBody struct {
	Name       string              `json:"name"`
	Attributes map[string][]string `json:"attributes"`
}

type groupPatchBody struct {
	Name       *string              `json:"name"`
	Attributes *map[string][]string `json:"attributes"`
}

type membersBody struct {
	Users []string `json:"users"`
}

// groupView is a group with the first page of its members (the ETag is the
// group record's: members are a collection of their own).
type groupView struct {
	domain.GroupRecord
	Members           []string `json:"members"`
	MembersNextCursor string   `json:"members_next_cursor"`
}

func (a *api) listGroups(c *call) error {
	cursor, limit, err := c.page()
	if err != nil {
		return err
	}
	return c.list(a.dom.ListGroups(c.Request.Context(), c.org, cursor, limit))
}

func (a *api) getGroup(c *call) error {
	cursor, limit, err := c.page()
	if err != nil {
		return err
	}
	ctx := c.Request.Context()
	g, err := a.dom.GetGroup(ctx, c.org, c.Param("group"))
	if err != nil {
		return err
	}
	m, err := a.dom.ListMembers(ctx, c.org, g.Name, cursor, limit)
	if err != nil {
		return err
	}
	c.Header("ETag", domain.ETag(g))
	c.JSON(http.StatusOK, groupView{GroupRecord: g, Members: m.Items, MembersNextCursor: m.NextCursor})
	return nil
}

func (a *api) createGroup(c *call) error {
	var b groupBody
	if err := c.decode(&b); err != nil {
		return err
	}
	g, rev, err := a.dom.CreateGroup(c.Request.Context(), c.org, domain.GroupRecord{Name: b.Name, Attributes: b.Attributes}, c.actor)
	if err != nil {
		return err
	}
	return c.record(http.StatusCreated, g, rev)
}

func (a *api) updateGroup(c *call) error {
	var b groupPatchBody
	if err := c.decode(&b); err != nil {
		return err
	}
	g, rev, err := a.dom.UpdateGroup(c.Request.Context(), c.org, c.Param("group"),
		domain.GroupPatch{Name: b.Name, Attributes: b.Attributes}, c.ifMatch(), c.actor)
	if err != nil {
		return err
	}
	return c.record(http.StatusOK, g, rev)
}

func (a *api) deleteGroup(c *call) error {
	return c.done(a.dom.DeleteGroup(c.Request.Context(), c.org, c.Param("group"), c.ifMatch(), c.actor))
}

func (a *api) listMembers(c *call) error {
	cursor, limit, err := c.page()
	if err != nil {
		return err
	}
	return c.list(a.dom.ListMembers(c.Request.Context(), c.org, c.Param("group"), cursor, limit))
}

func (a *api) addMembers(c *call) error {
	var b membersBody
	if err := c.decode(&b); err != nil {
		return err
	}
	return c.done(a.dom.AddMembers(c.Request.Context(), c.org, c.Param("group"), b.Users, c.actor))
}

func (a *api) removeMember(c *call) error {
	return c.done(a.dom.RemoveMember(c.Request.Context(), c.org, c.Param("group"), c.Param("user"), c.actor))
}

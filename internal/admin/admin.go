// Package admin is Verdict's admin API (docs/admin-api.md): Gin handlers
// under /admin/v1/orgs/{org}/… over the admin rules of package
// admin/domain (and the store's whole-org import, export and audit).
//
// Every call is authorized before anything else is read, the body included:
// the Authorizer gets the org and a Check naming the resource and the
// permission, and answers the acting subject or a refusal. Handlers hold no
// state; everything they use is safe for concurrent use.
package admin

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/verdict-pdp/verdict/internal/admin/domain"
	"github.com/verdict-pdp/verdict/internal/engine"
	"github.com/verdict-pdp/verdict/internal/frontdoor"
	"github.com/verdict-pdp/verdict/internal/store"
	"github.com/verdict-pdp/verdict/internal/verr"
)

// Check is what a call needs: an action on a resource, in the vocabulary of
// the decision API (DESIGN.md §4): resource type "org" (id = the org) with
// org_runtime_{users,roles,groups}_{read,write}, or "project" (id = the
// project) with read, manage_access, change_active_policy, create_build.
type Check struct {
	ResourceType, ResourceID, Action string
}

// Authorizer decides whether the caller of r may make check on org. It
// returns the acting subject (recorded in the audit), or a *verr.Error
// Unauthenticated (401) or Forbidden (403) to refuse; any other error
// refuses too.
type Authorizer interface {
	Authorize(r *http.Request, org string, check Check) (store.Actor, error)
}

// Permissions asked for (DESIGN.md §4).
const (
	UsersRead          = "org_runtime_users_read"
	UsersWrite         = "org_runtime_users_write"
	RolesRead          = "org_runtime_roles_read"
	RolesWrite         = "org_runtime_roles_write"
	GroupsRead         = "org_runtime_groups_read"
	GroupsWrite        = "org_runtime_groups_write"
	ProjectRead        = "read"
	ManageAccess       = "manage_access"
	ChangeActivePolicy = "change_active_policy"
	CreateBuild        = "create_build"
)

type api struct {
	st    *store.Store  // whole-org import, export, deletion and audit
	dom   *domain.Admin // every other call: the admin rules
	authz Authorizer
	eng   engines // the reviews' and migrations' decisions
}

// Option configures the admin API.
type Option func(*api)

// WithEngine makes the access review and the migration replay decide with
// e, the engine the PDP runs (its policies, extensions included). Without
// it they use an engine of the built-in policies, built on first use.
func WithEngine(e *engine.Engine) Option { return func(a *api) { a.eng.given = e } }

// Register adds every route of the admin API under /admin/v1/orgs.
func Register(r gin.IRouter, st *store.Store, authz Authorizer, opts ...Option) {
	a := &api{st: st, dom: domain.New(st), authz: authz}
	for _, o := range opts {
		o(a)
	}
	g := r.Group("/admin/v1/orgs")
	a.orgRoutes(g)
	a.userRoutes(g)
	a.roleRoutes(g)
	a.groupRoutes(g)
	a.projectRoutes(g)
	a.accessRoutes(g)
	a.designerRoutes(g)
	a.upgradeRoutes(g)
}

// checker names the check of a route from its path parameters.
type checker func(c *gin.Context) Check

func onOrg(action string) checker {
	return func(c *gin.Context) Check {
		return Check{ResourceType: "org", ResourceID: c.Param("org"), Action: action}
	}
}

func onProject(action string) checker {
	return func(c *gin.Context) Check {
		return Check{ResourceType: "project", ResourceID: c.Param("project"), Action: action}
	}
}

// call is one authorized request.
type call struct {
	*gin.Context
	org   string
	actor store.Actor
}

// handle wraps a handler with the rules of every endpoint (frontdoor): the
// org id rule first (the org id becomes part of Redis keys and of their
// hash tag), then authorization (tenancy included), then what the request
// carries: path parameters hold no control character, and a body is JSON.
func (a *api) handle(check checker, fn func(c *call) error) gin.HandlerFunc {
	return func(gc *gin.Context) {
		org := gc.Param("org")
		if err := frontdoor.CheckOrgID("org", org); err != nil {
			writeError(gc, err)
			return
		}
		actor, err := a.authz.Authorize(gc.Request, org, check(gc))
		if err != nil {
			e := verr.As(err)
			if e.Code != verr.Unauthenticated && e.Code != verr.Forbidden && e.Code != verr.Unavailable {
				// Fail closed: an authorizer that cannot decide refuses.
				e = verr.Wrap(verr.Forbidden, "", err, "not authorized: %v", err)
			}
			writeError(gc, e)
			return
		}
		for _, p := range gc.Params {
			if err := frontdoor.CheckName(p.Key, p.Value); err != nil {
				writeError(gc, err)
				return
			}
		}
		if err := frontdoor.CheckContentType(gc.Request); err != nil {
			writeError(gc, err)
			return
		}
		j := gc.GetHeader("X-Justification")
		if len(j) > maxJustLen {
			writeError(gc, verr.New(verr.InvalidInput, "X-Justification", "longer than %d bytes", maxJustLen))
			return
		}
		if err := frontdoor.CheckProse("X-Justification", j); err != nil {
			writeError(gc, err)
			return
		}
		if actor.Justification == "" {
			actor.Justification = j
		}
		c := &call{Context: gc, org: org, actor: actor}
		if err := fn(c); err != nil {
			writeError(gc, err)
		}
	}
}

// writeError answers {"error": {"code", "field", "message", "allowed"?}}.
func writeError(c *gin.Context, err error) { frontdoor.Abort(c, err) }

// decode reads and strictly decodes a body of at most 1 MiB into dst; a
// "justification" member replaces the X-Justification header.
func (c *call) decode(dst any) error { return c.decodeBody(dst, false) }

// decodeOptional is decode for calls whose body may be empty (only a
// justification to carry).
func (c *call) decodeOptional(dst any) error { return c.decodeBody(dst, true) }

func (c *call) decodeBody(dst any, optional bool) error {
	b, err := frontdoor.ReadBody(c.Writer, c.Request, maxBody)
	if err != nil || (optional && len(b) == 0) {
		return err
	}
	j, err := decodeStrict(b, dst)
	if err != nil {
		return err
	}
	if j != "" {
		c.actor.Justification = j
	}
	return nil
}

// ifMatch is the If-Match header ("" when absent).
func (c *call) ifMatch() string { return c.GetHeader("If-Match") }

// page reads ?cursor=&limit= (the store checks their values).
func (c *call) page() (string, int, error) {
	limit := 0
	if s := c.Query("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > domain.MaxLimit {
			return "", 0, verr.New(verr.InvalidInput, "limit", "limit must be an integer between 1 and %d", domain.MaxLimit)
		}
		limit = n
	}
	return c.Query("cursor"), limit, nil
}

// record answers one record with its ETag.
func (c *call) record(status int, v any, rev int64) error {
	c.Header("ETag", domain.ETag(v))
	c.revision(rev)
	c.JSON(status, v)
	return nil
}

// list answers a page.
func (c *call) list(v any, err error) error {
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, v)
	return nil
}

// done answers a write with no body (204).
func (c *call) done(rev int64, err error) error {
	if err != nil {
		return err
	}
	c.revision(rev)
	c.Status(http.StatusNoContent)
	return nil
}

// revision tells the org revision a write produced.
func (c *call) revision(rev int64) {
	if rev > 0 {
		c.Header("X-Verdict-Revision", strconv.FormatInt(rev, 10))
	}
}

// created is 201 for a new record, 200 for a replaced one.
func created(isNew bool) int {
	if isNew {
		return http.StatusCreated
	}
	return http.StatusOK
}

// positionParam reads a numeric path parameter (a designer role id).
func (c *call) positionParam(name string) (int64, error) {
	n, err := strconv.ParseInt(strings.TrimSpace(c.Param(name)), 10, 64)
	if err != nil || n <= 0 {
		return 0, verr.New(verr.NotFound, name, "no %s %q", name, c.Param(name))
	}
	return n, nil
}

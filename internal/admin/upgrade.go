package admin

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/verdict-pdp/verdict/internal/admin/domain"
	"github.com/verdict-pdp/verdict/internal/engine"
	"github.com/verdict-pdp/verdict/internal/frontdoor"
	"github.com/verdict-pdp/verdict/internal/migrate"
	"github.com/verdict-pdp/verdict/internal/orgdoc"
	"github.com/verdict-pdp/verdict/internal/policyload"
	"github.com/verdict-pdp/verdict/internal/review"
	"github.com/verdict-pdp/verdict/internal/verr"
)

// The upgrade from 5.1 and what follows it (docs/migration.md,
// docs/review.md): the migration of a 5.1 export, the post-upgrade
// checklist, promotion between environments, the access review, and the
// records they lean on (justifications of designer roles, invitations of
// migrated users, removal of legacy grants). The rules are in packages
// migrate, review and admin/domain; these handlers only translate HTTP.

func (a *api) upgradeRoutes(g gin.IRouter) {
	g.POST("/:org/migrations/51", a.handle(applyOr(onOrg(UsersRead), onOrg(UsersWrite)), a.migrate51))
	g.GET("/:org/checklist", a.handle(onOrg(UsersRead), a.checklist))
	g.GET("/:org/review", a.handle(onOrg(UsersRead), a.review))
	g.POST("/:org/projects/:project/promotion", a.handle(applyOr(onProject(ProjectRead), onProject(ManageAccess)), a.promote))

	g.GET("/:org/designer-roles/:id/justification", a.handle(onOrg(UsersRead), a.getJustification(false)))
	g.PUT("/:org/designer-roles/:id/justification", a.handle(onOrg(UsersWrite), a.justify(false)))
	g.GET("/:org/projects/:project/designer-roles/:id/justification", a.handle(onProject(ProjectRead), a.getJustification(true)))
	g.PUT("/:org/projects/:project/designer-roles/:id/justification", a.handle(onProject(ManageAccess), a.justify(true)))
	g.POST("/:org/users/:user/invitation", a.handle(onOrg(UsersWrite), a.invited))
	g.DELETE("/:org/users/:user/legacy-grants/:role", a.handle(onOrg(UsersWrite), a.deleteLegacyGrant))
}

// applyOr checks dry runs with one permission and ?apply=true with another,
// before the body is read.
func applyOr(dry, apply checker) checker {
	return func(c *gin.Context) Check {
		if c.Query("apply") == "true" {
			return apply(c)
		}
		return dry(c)
	}
}

// boolQuery reads ?name=true|false (absent: false).
func (c *call) boolQuery(name string) (bool, error) {
	switch v := c.Query(name); v {
	case "", "false":
		return false, nil
	case "true":
		return true, nil
	default:
		return false, verr.New(verr.InvalidInput, name, "must be true or false, not %q", v)
	}
}

// engines gives the engine of reviews and replays.
type engines struct {
	given *engine.Engine
	once  sync.Once
	built *engine.Engine
	err   error
}

func (e *engines) get(ctx context.Context) (*engine.Engine, error) {
	if e.given != nil {
		return e.given, nil
	}
	e.once.Do(func() {
		set, err := policyload.Load(nil, false)
		if err != nil {
			e.err = err
			return
		}
		e.built, e.err = engine.New(context.WithoutCancel(ctx), engine.Config{Modules: set.Modules, Data: set.Data})
	})
	return e.built, e.err
}

// migrationAnswer is the answer of POST /migrations/51.
type migrationAnswer struct {
	Org      string          `json:"org"`
	Applied  bool            `json:"applied"`
	Revision int64           `json:"revision,omitempty"`
	Report   *migrate.Report `json:"report"`
	Document *orgdoc.Org     `json:"document,omitempty"`
}

// migrate51 converts a 5.1 export (the body) and replays its decisions;
// with ?apply=true it imports the result (If-Match to replace an org that
// exists). The dry run answers the document too.
func (a *api) migrate51(c *call) error {
	apply, err := c.boolQuery("apply")
	if err != nil {
		return err
	}
	ifRev := int64(-1)
	if apply {
		if ifRev, err = a.revisionIfMatch(c); err != nil {
			return err
		}
	}
	b, err := frontdoor.ReadBody(c.Writer, c.Request, maxOrgBody)
	if err != nil {
		return err
	}
	if len(b) == 0 {
		return verr.New(verr.InvalidInput, "", "the body must be a 5.1 export (docs/migration.md)")
	}
	e, err := migrate.Decode(b)
	if err != nil {
		return err
	}
	if e.Org != c.org {
		return verr.New(verr.InvalidInput, "org", "the export is org %q, the path names %q", e.Org, c.org)
	}
	eng, err := a.eng.get(c.Request.Context())
	if err != nil {
		return err
	}
	doc, rep, err := migrate.Plan(c.Request.Context(), e, eng)
	if err != nil {
		return err
	}
	if !apply {
		c.JSON(http.StatusOK, migrationAnswer{Org: c.org, Report: rep, Document: doc})
		return nil
	}
	rev, err := migrate.Apply(c.Request.Context(), a.st, doc, rep, ifRev, c.actor, time.Now())
	if err != nil {
		return err
	}
	c.Header("ETag", revTag(rev))
	c.revision(rev)
	c.JSON(http.StatusOK, migrationAnswer{Org: c.org, Applied: true, Revision: rev, Report: rep})
	return nil
}

// wantsCSV says whether the caller asked for CSV (?format=csv or an
// Accept of text/csv); ?format= other than json or csv is a 400.
func (c *call) wantsCSV() (bool, error) {
	switch f := c.Query("format"); f {
	case "csv":
		return true, nil
	case "json":
		return false, nil
	case "":
		return strings.Contains(c.GetHeader("Accept"), "text/csv"), nil
	default:
		return false, verr.New(verr.InvalidInput, "format", "format must be json or csv, not %q", f)
	}
}

func (a *api) checklist(c *call) error {
	csv, err := c.wantsCSV()
	if err != nil {
		return err
	}
	env := c.Query("environment")
	in, err := review.Load(c.Request.Context(), a.st, c.org)
	if err != nil {
		return err
	}
	if env != "" && len(in.Org.Environments) > 0 && !slices.Contains(in.Org.Environments, env) {
		return verr.New(verr.NotFound, "environment", "no environment %q in org %s", env, c.org)
	}
	cl := review.Check(in, env)
	c.Header("ETag", revTag(in.Revision))
	if csv {
		c.Header("Content-Type", "text/csv; charset=utf-8")
		c.Status(http.StatusOK)
		return cl.WriteCSV(c.Writer)
	}
	c.JSON(http.StatusOK, cl)
	return nil
}

func (a *api) review(c *call) error {
	csv, err := c.wantsCSV()
	if err != nil {
		return err
	}
	opts := review.Options{Project: c.Query("project"), Environment: c.Query("environment")}
	if s := c.Query("inactive_days"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 36500 {
			return verr.New(verr.InvalidInput, "inactive_days", "inactive_days must be an integer between 1 and 36500")
		}
		opts.InactiveDays = n
	}
	eng, err := a.eng.get(c.Request.Context())
	if err != nil {
		return err
	}
	in, err := review.Load(c.Request.Context(), a.st, c.org)
	if err != nil {
		return err
	}
	r, err := review.Run(c.Request.Context(), eng, in, opts)
	if err != nil {
		return err
	}
	c.Header("ETag", revTag(in.Revision))
	if csv {
		c.Header("Content-Type", "text/csv; charset=utf-8")
		c.Status(http.StatusOK)
		return r.WriteCSV(c.Writer)
	}
	c.JSON(http.StatusOK, r)
	return nil
}

// promotionBody names the environments of a promotion.
type promotionBody struct {
	From        string `json:"from"`
	To          string `json:"to"`
	Prune       bool   `json:"prune"`
	KeepDefault bool   `json:"keep_default"`
}

// promote answers the plan of a promotion; with ?apply=true (which needs
// manage_access, and change_active_policy too, on the project) it applies
// it in one audited transaction.
func (a *api) promote(c *call) error {
	apply, err := c.boolQuery("apply")
	if err != nil {
		return err
	}
	if apply {
		// Overrides and the default are the active policy's: asked before
		// the body is read, like the route's own check.
		if _, err := a.authz.Authorize(c.Request, c.org, Check{ResourceType: "project", ResourceID: c.Param("project"), Action: ChangeActivePolicy}); err != nil {
			e := verr.As(err)
			if e.Code != verr.Unauthenticated && e.Code != verr.Forbidden && e.Code != verr.Unavailable {
				e = verr.Wrap(verr.Forbidden, "", err, "not authorized: %v", err)
			}
			return e
		}
	}
	var b promotionBody
	if err := c.decode(&b); err != nil {
		return err
	}
	o := domain.PromotionOptions{From: b.From, To: b.To, Prune: b.Prune, KeepDefault: b.KeepDefault}
	if !apply {
		p, err := a.dom.PlanPromotion(c.Request.Context(), c.org, c.Param("project"), o)
		if err != nil {
			return err
		}
		c.JSON(http.StatusOK, p)
		return nil
	}
	p, err := a.dom.Promote(c.Request.Context(), c.org, c.Param("project"), o, c.actor)
	if err != nil {
		return err
	}
	c.revision(p.Revision)
	c.JSON(http.StatusOK, p)
	return nil
}

func (a *api) getJustification(onProject bool) func(c *call) error {
	return func(c *call) error {
		id, err := c.positionParam("id")
		if err != nil {
			return err
		}
		j, err := a.dom.GetJustification(c.Request.Context(), c.org, project(c, onProject), id)
		if err != nil {
			return err
		}
		return c.record(http.StatusOK, j, 0)
	}
}

// justify records the body's "justification" (or X-Justification) on a
// designer role assignment.
func (a *api) justify(onProject bool) func(c *call) error {
	return func(c *call) error {
		id, err := c.positionParam("id")
		if err != nil {
			return err
		}
		var none struct{}
		if err := c.decodeOptional(&none); err != nil {
			return err
		}
		j, rev, err := a.dom.JustifyDesignerRole(c.Request.Context(), c.org, project(c, onProject), id, c.actor)
		if err != nil {
			return err
		}
		return c.record(http.StatusOK, j, rev)
	}
}

func (a *api) invited(c *call) error {
	var none struct{}
	if err := c.decodeOptional(&none); err != nil {
		return err
	}
	return c.done(a.dom.RecordInvitation(c.Request.Context(), c.org, c.Param("user"), c.actor))
}

func (a *api) deleteLegacyGrant(c *call) error {
	return c.done(a.dom.DeleteLegacyGrant(c.Request.Context(), c.org, c.Param("user"), c.Param("role"), c.actor))
}

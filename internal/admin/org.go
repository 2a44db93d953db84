package admin

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/verdict-pdp/verdict/internal/admin/domain"
	"github.com/verdict-pdp/verdict/internal/frontdoor"
	"github.com/verdict-pdp/verdict/internal/orgdoc"
	"github.com/verdict-pdp/verdict/internal/store"
	"github.com/verdict-pdp/verdict/internal/verr"
)

// The whole org (import, export, deletion) and its audit. The ETag of a
// whole org is its revision, "rev-<n>": the revision moves with every write
// of the org, so it is exactly what a backup-and-restore needs to compare.

func (a *api) orgRoutes(g gin.IRouter) {
	g.GET("/:org", a.handle(onOrg(UsersRead), a.getOrg))
	g.PUT("/:org", a.handle(onOrg(UsersWrite), a.putOrg))
	g.DELETE("/:org", a.handle(onOrg(UsersWrite), a.deleteOrg))
	g.GET("/:org/audit", a.handle(onOrg(UsersRead), a.audit))
}

func revTag(rev int64) string { return `"rev-` + strconv.FormatInt(rev, 10) + `"` }

// revisionIfMatch turns If-Match into the revision a write must start from:
// -1 without If-Match, the current one for "*" (the org must exist), else
// the n of "rev-<n>". A tag of another shape can never match: 412.
func (a *api) revisionIfMatch(c *call) (int64, error) {
	im := strings.TrimSpace(c.ifMatch())
	switch {
	case im == "":
		return -1, nil
	case im == "*":
		rev, err := a.st.Revision(c.Request.Context(), c.org)
		if err != nil {
			return 0, err
		}
		if rev == 0 {
			return 0, verr.New(verr.PreconditionFailed, "If-Match", "org %s does not exist", c.org)
		}
		return rev, nil
	}
	for _, t := range strings.Split(im, ",") {
		t = strings.TrimSpace(t)
		if s, ok := strings.CutPrefix(t, `"rev-`); ok {
			if n, err := strconv.ParseInt(strings.TrimSuffix(s, `"`), 10, 64); err == nil && strings.HasSuffix(s, `"`) {
				return n, nil
			}
		}
	}
	return 0, verr.New(verr.PreconditionFailed, "If-Match", `the ETag of an org is "rev-<revision>"`)
}

func (a *api) getOrg(c *call) error {
	o, rev, err := a.st.GetOrg(c.Request.Context(), c.org)
	if err != nil {
		return err
	}
	c.Header("ETag", revTag(rev))
	c.JSON(http.StatusOK, o)
	return nil
}

// putOrg replaces the org with a document decoded by orgdoc (errors carry
// the JSON path at fault). The justification comes from X-Justification
// only: the document format has no such member.
func (a *api) putOrg(c *call) error {
	ifRev, err := a.revisionIfMatch(c)
	if err != nil {
		return err
	}
	b, err := frontdoor.ReadBody(c.Writer, c.Request, maxOrgBody)
	if err != nil {
		return err
	}
	if len(b) == 0 {
		return verr.New(verr.InvalidInput, "", "empty body: an org document is required")
	}
	o, err := orgdoc.DecodeOrg(b)
	if err != nil {
		return err
	}
	if err := frontdoor.CheckText("", o); err != nil {
		return err
	}
	if o.Org != c.org {
		return verr.New(verr.InvalidInput, "org", "the document is org %q, the path names %q", o.Org, c.org)
	}
	rev, err := a.st.PutOrg(c.Request.Context(), o, ifRev, c.actor)
	if err != nil {
		return err
	}
	c.Header("ETag", revTag(rev))
	c.revision(rev)
	c.JSON(http.StatusOK, gin.H{"org": c.org, "revision": rev})
	return nil
}

func (a *api) deleteOrg(c *call) error {
	ifRev, err := a.revisionIfMatch(c)
	if err != nil {
		return err
	}
	return c.done(a.st.DeleteOrg(c.Request.Context(), c.org, ifRev, c.actor))
}

// audit pages through the org's audit stream; the cursor is a stream entry
// id (opaque to clients: pass next_cursor back).
func (a *api) audit(c *call) error {
	cursor, limit, err := c.page()
	if err != nil {
		return err
	}
	if limit == 0 {
		limit = domain.DefaultLimit
	}
	p, err := a.st.Audit(c.Request.Context(), c.org, cursor, int64(limit))
	if err != nil {
		return err
	}
	return c.list(domain.Page[store.AuditEntry]{Items: p.Entries, NextCursor: p.Next}, nil)
}

package serve

import (
	"context"
	"net/http"
	"sync"

	"github.com/gin-gonic/gin"

	"github.com/verdict-pdp/verdict/internal/admin"
	"github.com/verdict-pdp/verdict/internal/authn"
	"github.com/verdict-pdp/verdict/internal/authzen"
	"github.com/verdict-pdp/verdict/internal/frontdoor"
	"github.com/verdict-pdp/verdict/internal/pdp"
	"github.com/verdict-pdp/verdict/internal/store"
	"github.com/verdict-pdp/verdict/internal/verr"
)

// adminRoutes registers the admin API, authorized by the decision engine.
// After every successful write the PDP's own cached facts of the org are
// dropped before the first byte of the answer is written, so that once a
// caller holds the acknowledgement no decision of this PDP uses facts older
// than the write (read-your-writes, docs/consistency.md); other PDPs learn
// of it from the change feed.
func adminRoutes(st *store.Store, svc *pdp.Service, v *authn.Verifier, cfg *Config, invalidate func(org string)) func(gin.IRouter) {
	authz := &engineAuthorizer{pdp: svc, verifier: v, st: st, bootstrap: cfg.BootstrapAdmin}
	return func(r gin.IRouter) {
		g := r.Group("", func(c *gin.Context) {
			org := c.Param("org")
			if c.Request.Method == http.MethodGet || c.Request.Method == http.MethodHead || org == "" {
				c.Next()
				return
			}
			w := &ackWriter{ResponseWriter: c.Writer, ack: func() { invalidate(org) }}
			c.Writer = w
			c.Next()
			w.acknowledge() // an answer without a body (204) is written after this
		})
		var opts []admin.Option
		if svc != nil {
			// Reviews and migration replays decide with the PDP's own engine.
			opts = append(opts, admin.WithEngine(svc.Engine()))
		}
		admin.Register(g, st, authz, opts...)
	}
}

// ackWriter runs ack once, before the first byte of a successful answer
// (status < 300) is written: net/http may send what it is given at any time
// after (past its buffer, on a flush).
type ackWriter struct {
	gin.ResponseWriter
	ack  func()
	once sync.Once
}

func (w *ackWriter) acknowledge() {
	if w.Status() < 300 {
		w.once.Do(w.ack)
	}
}

func (w *ackWriter) WriteHeaderNow() { w.acknowledge(); w.ResponseWriter.WriteHeaderNow() }

func (w *ackWriter) Write(b []byte) (int, error) {
	w.acknowledge()
	return w.ResponseWriter.Write(b)
}

func (w *ackWriter) WriteString(s string) (int, error) {
	w.acknowledge()
	return w.ResponseWriter.WriteString(s)
}

func (w *ackWriter) Flush() { w.acknowledge(); w.ResponseWriter.Flush() }

// engineAuthorizer allows an admin call when the decision engine grants the
// caller (its token's subject, as an end user of the org) the permission
// (DESIGN.md rule 10): the admin API is authorized by the same engine.
//
// With sign-in off (--auth=none, dev mode) every call is allowed and audited
// as "anonymous (sign-in off)". A configured bootstrap admin may administer
// an org that has no data yet (revision 0), to create it.
type engineAuthorizer struct {
	pdp       *pdp.Service
	verifier  *authn.Verifier
	st        *store.Store
	bootstrap string
}

func (a *engineAuthorizer) Authorize(r *http.Request, org string, check admin.Check) (store.Actor, error) {
	actor := store.Actor{Justification: r.Header.Get("X-Justification")}
	if a.verifier == nil {
		actor.Subject = "anonymous (sign-in off)"
		return actor, nil
	}
	id, err := a.verifier.FromRequest(r)
	if err != nil {
		return actor, err
	}
	actor.Subject = id.Subject
	// Tenancy first, by the rule of every endpoint: a token without an org
	// claim, or of another org, administers nothing (bootstrap included).
	if err := frontdoor.Tenancy(id, org, "org"); err != nil {
		return actor, err
	}
	if a.bootstrap != "" && id.Subject == a.bootstrap {
		rev, err := a.st.Revision(r.Context(), org)
		if err != nil {
			return actor, err
		}
		if rev == 0 {
			return actor, nil
		}
	}
	req := &authzen.Request{
		Subject:  &authzen.Entity{Type: "user", ID: id.Subject},
		Action:   &authzen.Action{Name: check.Action},
		Resource: &authzen.Entity{Type: check.ResourceType, ID: check.ResourceID},
		Context:  map[string]any{"org": org},
	}
	d, err := a.pdp.Evaluate(context.WithoutCancel(r.Context()), req, nil)
	if err != nil {
		return actor, err
	}
	if !d.Decision {
		reason, _ := d.Context["reason"].(string)
		return actor, verr.New(verr.Forbidden, "", "%s may not %s on %s %s (%s)", id.Subject, check.Action, check.ResourceType, check.ResourceID, reason)
	}
	return actor, nil
}

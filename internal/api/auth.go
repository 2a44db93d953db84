package api

import (
	"github.com/gin-gonic/gin"
	"github.com/verdict-pdp/verdict/internal/authn"
	"github.com/verdict-pdp/verdict/internal/authzen"
	"github.com/verdict-pdp/verdict/internal/decision"
	"github.com/verdict-pdp/verdict/internal/frontdoor"
	"github.com/verdict-pdp/verdict/internal/verr"
)

const callerKey = "verdict.caller"

// authenticate verifies the caller's bearer token when sign-in is on.
func (s *Server) authenticate(c *gin.Context) {
	if s.Verifier == nil {
		c.Next()
		return
	}
	id, err := s.Verifier.FromRequest(c.Request)
	if err != nil {
		writeError(c, err)
		return
	}
	c.Set(callerKey, id)
	c.Next()
}

// caller is the authenticated caller, or nil when sign-in is off.
func caller(c *gin.Context) *authn.Identity {
	v, ok := c.Get(callerKey)
	if !ok {
		return nil
	}
	id, _ := v.(*authn.Identity)
	return id
}

// defaultOrg is the org of a request that names none: the authenticated
// caller's own, else the server's default.
func defaultOrg(c *gin.Context, server string) string {
	if id := caller(c); id != nil && id.Org != "" {
		return id.Org
	}
	return server
}

// checkOrg enforces tenancy (rule 11) through the one check every endpoint
// uses: a well-formed org id, and an authenticated caller asks about its
// own org only. An empty org (sign-in off, no default org) is left to the
// policies, which deny it as unknown_org.
func checkOrg(c *gin.Context, field, org string) error {
	noteOrg(c, org)
	if org != "" {
		if err := frontdoor.CheckOrgID(field, org); err != nil {
			return err
		}
	}
	return frontdoor.Tenancy(caller(c), org, field)
}

// subjectToken verifies subject.properties.token when the request carries
// one: its subject replaces subject.id and its claims stand in for the
// stored ones. The token is removed from the request, so it is never logged
// nor handed to the policies. An invalid token is an error, never a silent
// fallback to the stored record.
func (s *Server) subjectToken(c *gin.Context, r *authzen.Request, field string) (*decision.Token, error) {
	if r.Subject == nil || r.Subject.Properties == nil {
		return nil, nil
	}
	raw, present := r.Subject.Properties["token"]
	if !present {
		return nil, nil
	}
	delete(r.Subject.Properties, "token")
	tok, ok := raw.(string)
	if !ok || tok == "" {
		return nil, verr.New(verr.Unauthenticated, field, "must be a token string")
	}
	if s.Verifier == nil {
		return nil, verr.New(verr.Unauthenticated, field, "subject tokens cannot be verified: no OIDC issuer is configured")
	}
	id, err := s.Verifier.Verify(c.Request.Context(), tok)
	if err != nil {
		e := verr.As(err)
		return nil, verr.New(verr.Unauthenticated, field, "%s", e.Message)
	}
	if err := frontdoor.SubjectTenancy(id, r.Org(), field); err != nil {
		return nil, err
	}
	r.Subject.ID = id.Subject
	if r.Subject.Type == "" || r.Subject.Type == authzen.Anonymous {
		r.Subject.Type = "user"
	}
	return &decision.Token{Subject: id.Subject, DesignerUser: id.DesignerUser, Attributes: id.Attributes}, nil
}

func codeOf(err error) verr.Code { return verr.CodeOf(err) }

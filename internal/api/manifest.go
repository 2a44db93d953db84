package api

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/verdict-pdp/verdict/internal/authzen"
	"github.com/verdict-pdp/verdict/internal/decision"
	"github.com/verdict-pdp/verdict/internal/frontdoor"
	"github.com/verdict-pdp/verdict/internal/verr"
)

// manifestBody is the body of POST /v1/manifest: the user by id, or the
// user's own token, and the solution and environment.
type manifestBody struct {
	Org         string `json:"org"`
	User        string `json:"user"`
	Token       string `json:"token"`
	Project     string `json:"project"`
	Environment string `json:"environment"`
	Explain     bool   `json:"explain"`
}

// manifest answers the permission manifest of a user in a solution and
// environment (policies/manifest): everything a front end needs, in one
// evaluation. Like a decision it fails closed: a manifest that could not be
// computed grants nothing and says why in its decisions.
func (s *Server) manifest(c *gin.Context) {
	mf, ok := s.PDP.(decision.Manifester)
	if !ok {
		writeError(c, verr.New(verr.NotFound, "", "this PDP does not answer permission manifests"))
		return
	}
	var b manifestBody
	if err := s.orgBody(c, &b, &b.Org); err != nil {
		writeError(c, err)
		return
	}
	for _, f := range [...]struct{ field, v string }{{"user", b.User}, {"project", b.Project}, {"environment", b.Environment}} {
		if f.v == "" {
			continue
		}
		if err := frontdoor.CheckName(f.field, f.v); err != nil {
			writeError(c, err)
			return
		}
	}
	mr := decision.ManifestRequest{Org: b.Org, User: b.User, Project: b.Project, Environment: b.Environment, Explain: b.Explain}
	if b.Token != "" {
		req := &authzen.Request{Subject: &authzen.Entity{Type: "user", ID: b.User, Properties: map[string]any{"token": b.Token}},
			Context: map[string]any{"org": b.Org}}
		tok, err := s.subjectToken(c, req, "token")
		if err != nil {
			writeError(c, err)
			return
		}
		mr.User, mr.Token = tok.Subject, tok
	}
	if mr.User == "" {
		writeError(c, verr.New(verr.InvalidInput, "user", "required (or token)"))
		return
	}
	start := time.Now()
	m, err := mf.Manifest(c.Request.Context(), mr)
	if verr.CodeOf(err) == verr.InvalidInput {
		writeError(c, err)
		return
	}
	s.Metrics.observe("manifest", m.Access.Decision, err, time.Since(start))
	c.JSON(http.StatusOK, m)
}

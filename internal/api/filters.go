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

// filterBody is the body of POST /v1/filters/{id}: the user by id, or the
// user's own token.
type filterBody struct {
	Org   string `json:"org"`
	User  string `json:"user"`
	Token string `json:"token"`
}

// filter answers a business filter's condition (DESIGN.md rule 8) as data
// and as SQL.
func (s *Server) filter(c *gin.Context) {
	var b filterBody
	if err := s.orgBody(c, &b, &b.Org); err != nil {
		writeError(c, err)
		return
	}
	if err := frontdoor.CheckName("id", c.Param("id")); err != nil {
		writeError(c, err)
		return
	}
	fr := decision.FilterRequest{Org: b.Org, User: b.User, Filter: c.Param("id")}
	if b.Token != "" {
		req := &authzen.Request{Subject: &authzen.Entity{Type: "user", ID: b.User, Properties: map[string]any{"token": b.Token}},
			Context: map[string]any{"org": b.Org}}
		tok, err := s.subjectToken(c, req, "token")
		if err != nil {
			writeError(c, err)
			return
		}
		fr.User, fr.Token = tok.Subject, tok
	}
	if fr.User == "" {
		writeError(c, verr.New(verr.InvalidInput, "user", "required (or token)"))
		return
	}
	start := time.Now()
	f, err := s.PDP.Filter(c.Request.Context(), fr)
	s.Metrics.observe("business_filter", err == nil, err, time.Since(start))
	if err != nil {
		writeError(c, err)
		return
	}
	sql, err := s.PDP.FilterSQL(c.Request.Context(), f)
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"field": f.Field, "operator": f.Operator, "values": f.Values, "sql": sql})
}

package api

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/verdict-pdp/verdict/internal/authzen"
	"github.com/verdict-pdp/verdict/internal/decision"
	"github.com/verdict-pdp/verdict/internal/verr"
)

// dataAPI answers OPA's data API, POST /v1/data/{path} with {"input": ...},
// the way OPA does ({"result": ...}, or {} when undefined), so services
// written against OPA can point at Verdict. The input is an AuthZEN request;
// its org, subject, project and environment name the facts read. The main
// decision path goes through the same checks as /access/v1/evaluation.
func (s *Server) dataAPI(c *gin.Context) {
	path := strings.Trim(c.Param("path"), "/")
	body, err := s.body(c)
	if err != nil {
		writeError(c, err)
		return
	}
	var input any
	if len(body) > 0 {
		v, err := authzen.Decode(body)
		if err != nil {
			writeError(c, err)
			return
		}
		m, ok := v.(map[string]any)
		if !ok {
			writeError(c, verr.New(verr.InvalidInput, "", "the body must be a JSON object"))
			return
		}
		input = m["input"]
	}
	if path == "verdict/main/decision" {
		req, err := authzen.FromValue(input, "input.")
		if err != nil {
			// OPA evaluates whatever input it gets; the policy would deny.
			e := verr.As(err)
			c.JSON(http.StatusOK, gin.H{"result": decision.Decision{Context: map[string]any{"reason": string(e.Code), "error": e}}})
			return
		}
		d, id, err := s.decideID(c, req, "input.", false)
		if err != nil {
			writeError(c, err)
			return
		}
		if id != "" {
			// As OPA answers when it logs decisions.
			noteDecision(c, id)
			c.JSON(http.StatusOK, gin.H{"decision_id": id, "result": d})
			return
		}
		c.JSON(http.StatusOK, gin.H{"result": d})
		return
	}
	req := authzen.Lenient(input)
	if err := req.CheckNames("input."); err != nil {
		writeError(c, err)
		return
	}
	req.WithDefaultOrg(defaultOrg(c, s.PDP.DefaultOrg()))
	if err := checkOrg(c, "input.context.org", req.Org()); err != nil {
		writeError(c, err)
		return
	}
	tok, err := s.subjectToken(c, req, "input.subject.properties.token")
	if err != nil {
		writeError(c, err)
		return
	}
	v, found, err := s.PDP.Query(c.Request.Context(), path, req, tok)
	if err != nil {
		writeError(c, err)
		return
	}
	if !found {
		c.JSON(http.StatusOK, gin.H{})
		return
	}
	c.JSON(http.StatusOK, gin.H{"result": v})
}

// wellKnown is the AuthZEN PDP metadata, with URLs on the base URL the
// client used.
func (s *Server) wellKnown(c *gin.Context) {
	scheme := "http"
	if c.Request.TLS != nil {
		scheme = "https"
	}
	if p := c.GetHeader("X-Forwarded-Proto"); p == "http" || p == "https" {
		scheme = p
	}
	base := scheme + "://" + c.Request.Host
	c.JSON(http.StatusOK, gin.H{
		"policy_decision_point":       base,
		"access_evaluation_endpoint":  base + "/access/v1/evaluation",
		"access_evaluations_endpoint": base + "/access/v1/evaluations",
		"search_subject_endpoint":     base + "/access/v1/search/subject",
		"search_resource_endpoint":    base + "/access/v1/search/resource",
		"search_action_endpoint":      base + "/access/v1/search/action",
	})
}

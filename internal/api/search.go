package api

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"
	"github.com/verdict-pdp/verdict/internal/authzen"
)

// search answers the three AuthZEN searches.
func (s *Server) search(kind string) gin.HandlerFunc {
	return func(c *gin.Context) {
		body, err := s.body(c)
		if err != nil {
			writeError(c, err)
			return
		}
		req, page, err := authzen.ParseSearch(kind, body)
		if err != nil {
			writeError(c, err)
			return
		}
		req.WithDefaultOrg(defaultOrg(c, s.PDP.DefaultOrg()))
		if err := checkOrg(c, req.Org()); err != nil {
			writeError(c, err)
			return
		}
		results := []gin.H{}
		next := ""
		switch kind {
		case authzen.SearchSubject:
			if req.Subject.Type != "user" {
				break // only users are subjects of built-in types
			}
			ids, tok, err := s.PDP.SearchSubjects(c.Request.Context(), req, page.Limit, page.Token)
			if err != nil {
				writeError(c, err)
				return
			}
			for _, id := range ids {
				results = append(results, gin.H{"type": "user", "id": id})
			}
			next = tok
		default:
			tok, err := s.subjectToken(c, req, "subject.properties.token")
			if err != nil {
				writeError(c, err)
				return
			}
			var list []string
			if kind == authzen.SearchResource {
				list, err = s.PDP.SearchResources(c.Request.Context(), req, tok)
			} else {
				list, err = s.PDP.SearchActions(c.Request.Context(), req, tok)
			}
			if err != nil {
				writeError(c, err)
				return
			}
			// These lists are short: page them by offset.
			off := 0
			if page.Token != "" {
				if off, err = strconv.Atoi(page.Token); err != nil || off < 0 || off > len(list) {
					writeError(c, errBadToken)
					return
				}
			}
			end := min(off+page.Limit, len(list))
			for _, x := range list[off:end] {
				if kind == authzen.SearchResource {
					results = append(results, gin.H{"type": req.Resource.Type, "id": x})
				} else {
					results = append(results, gin.H{"name": x})
				}
			}
			if end < len(list) {
				next = strconv.Itoa(end)
			}
		}
		c.JSON(http.StatusOK, gin.H{"results": results, "page": gin.H{"next_token": next}})
	}
}

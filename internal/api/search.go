package api

import (
	"cmp"
	"net/http"
	"slices"
	"strconv"

	"github.com/gin-gonic/gin"
	"github.com/verdict-pdp/verdict/internal/authzen"
	"github.com/verdict-pdp/verdict/internal/decision"
	"github.com/verdict-pdp/verdict/internal/verr"
)

// entityResult is one subject or resource of a search answer, its members
// in the order AuthZEN implementations write them ({"type", "id",
// "properties"?}): the working group's interop harness compares results as
// text.
type entityResult struct {
	Type       string         `json:"type"`
	ID         string         `json:"id"`
	Properties map[string]any `json:"properties,omitempty"`
}

// actionResult is one action of an action search answer.
type actionResult struct {
	Name string `json:"name"`
}

type searchPage struct {
	NextToken string `json:"next_token"`
}

type searchAnswer struct {
	Results any        `json:"results"`
	Page    searchPage `json:"page"`
}

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
		if err := checkOrg(c, "context.org", req.Org()); err != nil {
			writeError(c, err)
			return
		}
		tok, err := s.subjectToken(c, req, "subject.properties.token")
		if err != nil {
			writeError(c, err)
			return
		}
		var ans searchAnswer
		switch kind {
		case authzen.SearchSubject:
			if tok != nil {
				// Verified like everywhere, then refused: a subject search
				// looks for subjects, a token names one.
				writeError(c, verr.New(verr.InvalidInput, "subject.properties.token",
					"a subject search has no one subject: ask /access/v1/evaluation for the token's subject"))
				return
			}
			ans, err = s.searchSubjects(c, req, page)
		default:
			ans, err = s.searchList(c, kind, req, page, tok)
		}
		if err != nil {
			writeError(c, err)
			return
		}
		c.JSON(http.StatusOK, ans)
	}
}

// searchSubjects: for an extension type, the package's subjects.<type>
// candidates the decision allows, with their properties; for a built-in
// type (whose subjects are users) and for an extension that lists no
// candidates of type user, the org's users, each decided like an
// evaluation.
func (s *Server) searchSubjects(c *gin.Context, req *authzen.Request, page authzen.Page) (searchAnswer, error) {
	ctx := c.Request.Context()
	typ := req.Subject.Type
	if !authzen.Builtin(req.Resource.Type) {
		v, found, err := s.PDP.Query(ctx, "verdict/search/subject_results", req, nil)
		if err != nil {
			return searchAnswer{}, err
		}
		if found {
			list, _ := v.([]any)
			out := make([]entityResult, 0, len(list))
			for _, x := range list {
				m, _ := x.(map[string]any)
				id, ok := m["id"].(string)
				if !ok {
					continue
				}
				props, _ := m["properties"].(map[string]any)
				out = append(out, entityResult{Type: typ, ID: id, Properties: props})
			}
			slices.SortStableFunc(out, func(a, b entityResult) int { return cmp.Compare(a.ID, b.ID) })
			return pageByOffset(out, page)
		}
	}
	if typ != "user" {
		return searchAnswer{Results: []entityResult{}}, nil
	}
	ids, next, err := s.PDP.SearchSubjects(ctx, req, page.Limit, page.Token)
	if err != nil {
		return searchAnswer{}, err
	}
	out := make([]entityResult, 0, len(ids))
	for _, id := range ids {
		out = append(out, entityResult{Type: "user", ID: id})
	}
	return searchAnswer{Results: out, Page: searchPage{NextToken: next}}, nil
}

// searchList answers resource and action search from the policies' lists.
func (s *Server) searchList(c *gin.Context, kind string, req *authzen.Request, page authzen.Page, tk *decision.Token) (searchAnswer, error) {
	ctx := c.Request.Context()
	if kind == authzen.SearchResource {
		list, err := s.PDP.SearchResources(ctx, req, tk)
		if err != nil {
			return searchAnswer{}, err
		}
		out := make([]entityResult, 0, len(list))
		for _, id := range list {
			out = append(out, entityResult{Type: req.Resource.Type, ID: id})
		}
		return pageByOffset(out, page)
	}
	list, err := s.PDP.SearchActions(ctx, req, tk)
	if err != nil {
		return searchAnswer{}, err
	}
	out := make([]actionResult, 0, len(list))
	for _, name := range list {
		out = append(out, actionResult{Name: name})
	}
	return pageByOffset(out, page)
}

// pageByOffset pages a short, complete list; the token is the offset.
func pageByOffset[T any](list []T, page authzen.Page) (searchAnswer, error) {
	off := 0
	if page.Token != "" {
		var err error
		if off, err = strconv.Atoi(page.Token); err != nil || off < 0 || off > len(list) {
			return searchAnswer{}, errBadToken
		}
	}
	end := min(off+page.Limit, len(list))
	ans := searchAnswer{Results: list[off:end]}
	if end < len(list) {
		ans.Page.NextToken = strconv.Itoa(end)
	}
	return ans, nil
}

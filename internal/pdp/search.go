package pdp

import (
	"context"
	"strconv"
	"strings"

	"github.com/verdict-pdp/verdict/internal/authzen"
	"github.com/verdict-pdp/verdict/internal/decision"
	"github.com/verdict-pdp/verdict/internal/verr"
)

// UserScanner pages through an org's user ids; sources that can list users
// implement it (the Redis store, in-memory documents).
type UserScanner interface {
	ScanUserIDs(ctx context.Context, org, token string, batch int) ([]string, string, error)
}

// SearchLimits bound one search call.
const (
	// scanBatch is how many candidate users are read at a time.
	scanBatch = 200
	// maxExamined bounds the candidates one call evaluates: a search that
	// finds few results answers what it has with a next token rather than
	// scanning a million users in one request.
	maxExamined = 5000
)

// SearchSubjects answers which users r's action on r's resource is allowed
// for, paging through the org's users: up to limit ids, and a token to go on
// ("" at the end). Each candidate is decided like an evaluation.
func (s *Service) SearchSubjects(ctx context.Context, r *authzen.Request, limit int, token string) ([]string, string, error) {
	r.WithDefaultOrg(s.cfg.DefaultOrg)
	sc, ok := s.cfg.Users, s.cfg.Users != nil
	if !ok {
		sc, ok = s.source.(UserScanner)
	}
	if !ok {
		return nil, "", verr.New(verr.Internal, "", "this PDP cannot list users")
	}
	cursor, skip, err := parseSearchToken(token)
	if err != nil {
		return nil, "", err
	}
	var found []string
	examined := 0
	for {
		ids, next, err := sc.ScanUserIDs(ctx, r.Org(), cursor, scanBatch)
		if err != nil {
			return nil, "", err
		}
		for i := skip; i < len(ids); i++ {
			q := *r
			q.Subject = &authzen.Entity{Type: "user", ID: ids[i]}
			d, _, err := s.evaluate(ctx, &q, nil)
			if err != nil {
				return nil, "", err
			}
			examined++
			if d.Decision {
				found = append(found, ids[i])
			}
			if len(found) == limit || examined >= maxExamined {
				if i+1 < len(ids) {
					return found, cursor + ":" + strconv.Itoa(i+1), nil
				}
				if next == "" {
					return found, "", nil
				}
				return found, next + ":0", nil
			}
		}
		skip = 0
		if next == "" {
			return found, "", nil
		}
		cursor = next
	}
}

func parseSearchToken(t string) (string, int, error) {
	if t == "" {
		return "", 0, nil
	}
	i := strings.LastIndexByte(t, ':')
	if i < 0 {
		return "", 0, verr.New(verr.InvalidInput, "page.token", "not a token of this search")
	}
	n, err := strconv.Atoi(t[i+1:])
	if err != nil || n < 0 {
		return "", 0, verr.New(verr.InvalidInput, "page.token", "not a token of this search")
	}
	return t[:i], n, nil
}

// SearchResources answers the ids of r's resource type that the subject may
// act on (r.Resource.ID is ignored), computed by the policies from the
// subject's facts.
func (s *Service) SearchResources(ctx context.Context, r *authzen.Request, tok *decision.Token) ([]string, error) {
	return s.searchList(ctx, "verdict/search/resources", r, tok)
}

// SearchActions answers the actions the subject may take on r's resource.
func (s *Service) SearchActions(ctx context.Context, r *authzen.Request, tok *decision.Token) ([]string, error) {
	return s.searchList(ctx, "verdict/search/actions", r, tok)
}

func (s *Service) searchList(ctx context.Context, path string, r *authzen.Request, tok *decision.Token) ([]string, error) {
	return QueryList(ctx, s, path, r, tok)
}

// Querier evaluates a data path for a request (the central PDP, an edge).
type Querier interface {
	Query(ctx context.Context, path string, r *authzen.Request, tok *decision.Token) (any, bool, error)
}

// QueryList evaluates a path whose value is a list of strings (the search
// rules); undefined is an empty list.
func QueryList(ctx context.Context, q Querier, path string, r *authzen.Request, tok *decision.Token) ([]string, error) {
	v, found, err := q.Query(ctx, path, r, tok)
	if err != nil || !found {
		return []string{}, err
	}
	list, _ := v.([]any)
	out := make([]string, 0, len(list))
	for _, x := range list {
		if id, ok := x.(string); ok {
			out = append(out, id)
		}
	}
	return out, nil
}

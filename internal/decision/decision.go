// Package decision holds the contract that the layers of a decision share: the
// answer to one request, a business filter request and its answer, the
// verified claims of a subject's own token, and the Decider interface that the
// HTTP API serves from (the central PDP and an edge PDP both implement it).
//
// It owns no implementation and no state: every value here is a plain value
// owned by whoever made it. Packages that decide (pdp, edge, engine) and
// packages that serve or replay decisions (api, conformance, decisionlog)
// import it; it imports only the request format (authzen).
package decision

import (
	"context"

	"github.com/verdict-pdp/verdict/internal/authzen"
)

// Decision is the answer to one AuthZEN request.
type Decision struct {
	Decision bool           `json:"decision"`
	Context  map[string]any `json:"context,omitempty"`
}

// Filter is a business filter condition (DESIGN.md rule 8): field IN values.
type Filter struct {
	Field    string   `json:"field"`
	Operator string   `json:"operator"`
	Values   []string `json:"values"`
}

// FilterRequest names a business filter and the user it is computed for.
type FilterRequest struct {
	Org    string
	User   string
	Filter string
	Token  *Token
}

// SQL is a business filter's condition as a SQL WHERE clause.
type SQL struct {
	Dialect string `json:"dialect"`
	Where   string `json:"where"`
}

// Token holds the claims of a subject's own verified OIDC token that stand in
// for the stored record (rules 4 and 8). A claim the token lacks (nil) leaves
// the stored value in force.
type Token struct {
	Subject      string
	DesignerUser *bool
	Attributes   map[string][]string
}

// Decider is what the HTTP API decides with: the central PDP (facts from
// Redis) or an edge PDP (bundles). Every method fails closed: an error is
// returned together with a deny where a decision is asked for.
type Decider interface {
	// DefaultOrg is the org of requests that name none.
	DefaultOrg() string
	// Revision names the running policies (and data, on an edge).
	Revision() string
	Evaluate(ctx context.Context, r *authzen.Request, tok *Token) (Decision, error)
	Query(ctx context.Context, path string, r *authzen.Request, tok *Token) (any, bool, error)
	Filter(ctx context.Context, f FilterRequest) (Filter, error)
	FilterSQL(ctx context.Context, f Filter) (SQL, error)
	SearchSubjects(ctx context.Context, r *authzen.Request, limit int, token string) ([]string, string, error)
	SearchResources(ctx context.Context, r *authzen.Request, tok *Token) ([]string, error)
	SearchActions(ctx context.Context, r *authzen.Request, tok *Token) ([]string, error)
}

// Package assemble turns an organization's facts into the decision data the
// policies read (the indexed shape of docs/data-model.md): for a whole org
// (bundles, stock OPA) or, per request, for one subject only (the central PDP).
//
// A decision never needs the whole organization. Scope names what one request
// touches (org, subject, project, environment, filter); a Source answers it
// with exactly those facts. DocSource answers from org documents held in
// memory; the Redis store answers the same Scope from a few keys.
//
// Index values are immutable once built: a DocSource may be read by any number
// of goroutines at once. Swapping one in is the caller's job.
package assemble

import (
	"context"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/verdict-pdp/verdict/internal/decision"
)

// Scope names what one decision may read.
type Scope struct {
	Org         string
	Subject     string          // user id; "" for anonymous
	Project     string          // "" when the request names no project
	Environment string          // "" when the request names none
	Filter      string          // business filter id, "" when none
	Token       *decision.Token // verified claims of the subject's own token, if any
}

// Source answers a Scope with the decision data for data.verdict_data.orgs:
// an object {org: sparse org data}. An unknown org answers an empty object.
type Source interface {
	Facts(ctx context.Context, s Scope) (ast.Value, error)
}

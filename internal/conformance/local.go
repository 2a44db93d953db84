package conformance

import (
	"context"
	"encoding/json"

	"github.com/verdict-pdp/verdict/internal/assemble"
	"github.com/verdict-pdp/verdict/internal/authzen"
	"github.com/verdict-pdp/verdict/internal/decision"
	"github.com/verdict-pdp/verdict/internal/engine"
	"github.com/verdict-pdp/verdict/internal/orgdoc"
	"github.com/verdict-pdp/verdict/internal/pdp"
)

// Local decides in-process with the corpus's own org documents.
type Local struct {
	Service *pdp.Service
}

// NewLocal builds an in-process decider over orgs with engine e.
func NewLocal(e *engine.Engine, orgs []orgdoc.Org) (*Local, error) {
	svc, err := pdp.New(pdp.Config{}, e, assemble.NewDocSource(orgs))
	if err != nil {
		return nil, err
	}
	return &Local{Service: svc}, nil
}

// Evaluate implements Decider. A request the parser refuses is an error.
func (l *Local) Evaluate(ctx context.Context, raw json.RawMessage) (decision.Decision, error) {
	r, err := authzen.ParseRequest(raw)
	if err != nil {
		return decision.Decision{}, err
	}
	return l.Service.Evaluate(ctx, r, nil)
}

// Filter implements Decider.
func (l *Local) Filter(ctx context.Context, f orgdoc.FilterRequest) (decision.Filter, error) {
	return l.Service.Filter(ctx, decision.FilterRequest{Org: f.Org, User: f.User, Filter: f.Filter})
}

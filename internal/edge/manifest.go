package edge

import (
	"context"
	"strconv"

	"github.com/verdict-pdp/verdict/internal/bundle"
	"github.com/verdict-pdp/verdict/internal/decision"
	"github.com/verdict-pdp/verdict/internal/engine"
	"github.com/verdict-pdp/verdict/internal/pdp"
	"github.com/verdict-pdp/verdict/internal/verr"
)

var _ decision.Manifester = (*Edge)(nil)

// Manifest answers the permission manifest at
// data.verdict.orgs[org].manifest.result: the bundle carries the manifest
// policy like every other, moved under the org's root with its calls to the
// entry point. It fails closed as the central PDP does.
func (e *Edge) Manifest(ctx context.Context, m decision.ManifestRequest) (decision.Manifest, error) {
	if m.Org == "" {
		m.Org = e.cfg.DefaultOrg
	}
	fail := func(err error) (decision.Manifest, error) { return decision.Denied(m, deny(err)), err }
	r, err := pdp.ManifestInput(m)
	if err != nil {
		return fail(err)
	}
	in, err := r.Value()
	if err != nil {
		return fail(err)
	}
	l, err := e.route(m.Org)
	if err != nil {
		return fail(err)
	}
	if l.Name != "" && l.Env != bundle.AllEnvironments && m.Environment != l.Env {
		return decision.Denied(m, decision.Decision{Context: map[string]any{"reason": "environment_not_on_edge",
			"error": "this edge holds environment " + strconv.Quote(l.Env) + " of org " + strconv.Quote(l.Org) + " only"}}), nil
	}
	v, err := e.eval(ctx, "verdict/orgs/"+l.Org+"/manifest/result", in, m.Org, m.Token)
	if err != nil {
		return fail(err)
	}
	if v == nil {
		return fail(verr.New(verr.PolicyError, "", "the bundle's policies define no manifest"))
	}
	out, err := engine.ManifestOf(v)
	if err != nil {
		return fail(err)
	}
	out.Org, out.User, out.Project, out.Environment = m.Org, m.User, m.Project, m.Environment
	return out, nil
}

package conformance

import (
	"context"
	"net/url"

	"github.com/verdict-pdp/verdict/client"
	"github.com/verdict-pdp/verdict/internal/decision"
)

var _ decision.Manifester = (*Remote)(nil)

// Manifest asks the PDP for a permission manifest with POST /v1/manifest.
// The request's token, if any, is not sent (a subject token is the caller's
// to pass in the body).
func (r *Remote) Manifest(ctx context.Context, m decision.ManifestRequest) (decision.Manifest, error) {
	var out decision.Manifest
	if r.err != nil {
		return out, r.err
	}
	err := r.c.Post(ctx, "/v1/manifest", client.ManifestRequest{Org: m.Org, User: m.User, Project: m.Project,
		Environment: m.Environment, Explain: m.Explain}, &out)
	return out, err
}

func pathEscape(s string) string { return url.PathEscape(s) }

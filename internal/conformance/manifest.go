package conformance

import (
	"context"
	"encoding/json"

	"github.com/verdict-pdp/verdict/internal/decision"
)

var _ decision.Manifester = (*Remote)(nil)

// Manifest asks the PDP for a permission manifest with POST /v1/manifest.
// The request's token, if any, is not sent (a subject token is the caller's
// to pass in the body).
func (r *Remote) Manifest(ctx context.Context, m decision.ManifestRequest) (decision.Manifest, error) {
	body, _ := json.Marshal(map[string]any{"org": m.Org, "user": m.User, "project": m.Project,
		"environment": m.Environment, "explain": m.Explain})
	var out decision.Manifest
	err := r.post(ctx, "/v1/manifest", body, &out)
	return out, err
}

package bundle

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/verdict-pdp/verdict/internal/authn"
	"github.com/verdict-pdp/verdict/internal/facts"
	"github.com/verdict-pdp/verdict/internal/store"
	"github.com/verdict-pdp/verdict/internal/verr"
)

// MountConfig is what a PDP needs to serve bundles beside its API.
type MountConfig struct {
	Store *store.Store
	// Feed is the process's change feed (nil: the bundle server starts its
	// own).
	Feed interface{ Listen(facts.Listener) }
	// Policies returns the policies the PDP runs now (built-in and
	// extension modules, extension data), bundled as they are; asked at
	// every build, so a reload reaches the bundles.
	Policies func() Policies
	// SigningKey is a PEM private key file; "" serves unsigned bundles
	// (logged loudly: edges refuse them).
	SigningKey string
	// Verifier authenticates bundle callers like API callers; nil: open.
	Verifier *authn.Verifier
	Log      *slog.Logger
}

// Mount returns next with GET /bundles/{org}/{env|all}.tar.gz served in
// front of it: the one hook the central PDP needs (serve.Start calls it on
// its API handler). Followers stop when ctx ends.
func Mount(ctx context.Context, next http.Handler, c MountConfig) (http.Handler, error) {
	var signer *Signer
	if c.SigningKey != "" {
		var err error
		if signer, err = LoadSigner(c.SigningKey); err != nil {
			return nil, err
		}
	}
	if c.Policies == nil {
		return nil, verr.New(verr.InvalidInput, "policies", "required")
	}
	s, err := NewServer(ctx, ServerConfig{Store: c.Store, Feed: c.Feed, PolicySource: c.Policies,
		Signer: signer, Verifier: c.Verifier, Log: c.Log})
	if err != nil {
		return nil, err
	}
	return s.Wrap(next), nil
}

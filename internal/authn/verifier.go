package authn

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/verdict-pdp/verdict/internal/verr"
)

// maxTokenBytes bounds what is parsed: a real Keycloak token with many
// groups is a few KiB, and parsing is the only work an anonymous caller can
// make us do.
const maxTokenBytes = 64 << 10

// Verifier verifies tokens of one issuer. Create it with New.
type Verifier struct {
	cfg Config
	ok  atomic.Pointer[oidc.IDTokenVerifier] // set once, by the first successful discovery

	// sem (one slot) serialises discovery attempts; it also guards lastTry and
	// lastErr, which only its holder touches.
	sem     chan struct{}
	lastTry time.Time
	lastErr error
}

// New validates cfg and attempts discovery once with ctx. If the issuer is
// unreachable New still succeeds (see the package doc): Verify retries.
func New(ctx context.Context, cfg Config) (*Verifier, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	v := &Verifier{cfg: cfg, sem: make(chan struct{}, 1)}
	if _, err := v.verifier(ctx); err != nil {
		if mismatch := (*oidc.IssuerMismatchError)(nil); errors.As(err, &mismatch) {
			return nil, verr.Wrap(verr.InvalidInput, "issuer_url", err,
				"discovery at %s names issuer %q: set issuer_url to the issuer exactly", cfg.IssuerURL, mismatch.Discovered)
		}
	}
	return v, nil
}

// Ready reports whether discovery has succeeded, attempting it (subject to
// RetryInterval) if not; a readiness probe can use it. The error is
// verr.Unavailable: the IdP, not the caller, is at fault.
func (v *Verifier) Ready(ctx context.Context) error {
	if _, err := v.verifier(ctx); err != nil {
		return verr.Wrap(verr.Unavailable, "", err, "identity provider %s: discovery failed: %v", v.cfg.IssuerURL, err)
	}
	return nil
}

// verifier returns go-oidc's verifier, running discovery if it has not yet
// succeeded and the last failure is older than RetryInterval.
func (v *Verifier) verifier(ctx context.Context) (*oidc.IDTokenVerifier, error) {
	if iv := v.ok.Load(); iv != nil {
		return iv, nil
	}
	select {
	case v.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-v.sem }()
	if iv := v.ok.Load(); iv != nil { // another caller succeeded while we waited
		return iv, nil
	}
	if !v.lastTry.IsZero() && time.Since(v.lastTry) < v.cfg.RetryInterval {
		return nil, v.lastErr
	}
	p, err := oidc.NewProvider(oidc.ClientContext(ctx, v.cfg.HTTPClient), v.cfg.IssuerURL)
	if err != nil {
		// A caller that gave up says nothing about the IdP: let the next one try.
		if ctx.Err() == nil {
			v.lastTry, v.lastErr = time.Now(), err
		}
		return nil, err
	}
	// The provider keeps the HTTP client for its JWKS fetches; signing
	// algorithms default to those discovery advertises (asymmetric only).
	iv := p.Verifier(&oidc.Config{ClientID: v.cfg.Audience})
	v.ok.Store(iv)
	return iv, nil
}

// Verify checks rawToken (signature, issuer, audience, expiry, a subject) and
// returns the identity it carries.
func (v *Verifier) Verify(ctx context.Context, rawToken string) (*Identity, error) {
	if rawToken == "" {
		return nil, verr.New(verr.Unauthenticated, "", "empty token")
	}
	if len(rawToken) > maxTokenBytes {
		return nil, verr.New(verr.Unauthenticated, "", "token larger than %d bytes", maxTokenBytes)
	}
	iv, err := v.verifier(ctx)
	if err != nil {
		// The cause (addresses, DNS) is for logs, through Unwrap, not for the caller.
		return nil, verr.Wrap(verr.Unauthenticated, "", err,
			"cannot verify tokens: discovery of identity provider %s has not succeeded yet", v.cfg.IssuerURL)
	}
	tok, err := iv.Verify(ctx, rawToken)
	if err != nil {
		return nil, verr.Wrap(verr.Unauthenticated, "", err, "%s", v.reason(err))
	}
	var claims map[string]any
	if err := tok.Claims(&claims); err != nil {
		return nil, verr.Wrap(verr.Unauthenticated, "", err, "malformed token claims")
	}
	return v.identity(tok.Subject, claims)
}

// FromRequest verifies the bearer token of r.
func (v *Verifier) FromRequest(r *http.Request) (*Identity, error) {
	tok, err := BearerToken(r)
	if err != nil {
		return nil, err
	}
	return v.Verify(r.Context(), tok)
}

// reason names why go-oidc refused a token. go-oidc exports a type only for
// expiry, so the rest is read from its messages; the tests pin each case, so
// a go-oidc upgrade that rewords one is caught, and an unknown message still
// refuses the token, with go-oidc's own words.
func (v *Verifier) reason(err error) string {
	var expired *oidc.TokenExpiredError
	if errors.As(err, &expired) {
		return fmt.Sprintf("token expired at %s", expired.Expiry.UTC().Format(time.RFC3339))
	}
	msg := err.Error()
	switch {
	case strings.Contains(msg, "malformed jwt"):
		return "malformed token: not a JWT signed with an accepted algorithm"
	case strings.Contains(msg, "failed to verify signature"):
		if strings.Contains(msg, "fetching keys") {
			return "cannot verify token signature: signing keys unavailable from the identity provider"
		}
		return "bad token signature: not signed by a key of the identity provider"
	case strings.Contains(msg, "issued by a different provider"):
		return fmt.Sprintf("wrong token issuer: want %q", v.cfg.IssuerURL)
	case strings.Contains(msg, "expected audience"):
		return fmt.Sprintf("wrong token audience: want %q", v.cfg.Audience)
	case strings.Contains(msg, "before the nbf"):
		return "token not valid yet (nbf)"
	}
	return "invalid token: " + msg
}

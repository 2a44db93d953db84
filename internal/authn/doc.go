// Package authn turns a bearer token from the IdP (Keycloak) into a verified
// Identity: signature, issuer, audience and expiry are checked with go-oidc
// against keys found by OIDC discovery, then Verdict's claims (org,
// designerUser, attributes) are read with strict types.
//
// Ownership. This package owns the HTTP client it talks to the IdP with, the
// discovered provider and go-oidc's cache of signing keys (refetched by
// go-oidc when a token names an unknown kid, which is how key rotation is
// picked up). It owns no goroutine of its own. It decides nothing: what an
// Identity may do is the engine's business, and turning errors into HTTP
// answers (401) is the API layer's, through verr.HTTPStatus. As go-oidc
// refetches keys only for an unknown kid, a key the IdP retires is accepted
// until a token signed with a newer key arrives (at once, after a rotation).
//
// Startup. A PDP must start while Keycloak is down, so New succeeds when
// discovery fails for a network or server reason; discovery is retried on
// use, at most once per Config.RetryInterval, and until it succeeds every
// Verify fails closed with verr.Unauthenticated. A discovery answer that is
// wrong rather than missing (the document names another issuer) is a
// configuration error and fails New with verr.InvalidInput.
//
// Concurrency. A Verifier is safe for concurrent use. Verify is lock-free once
// discovery has succeeded; before that, one caller at a time attempts it and
// the others wait (bounded by their context) for its result.
//
// Errors. Every failure of Verify, FromRequest and BearerToken is a
// *verr.Error with Code verr.Unauthenticated whose message says why (expired,
// wrong audience, wrong issuer, bad signature, malformed, a claim of the wrong
// type); the underlying error is kept as its cause (errors.Unwrap) for logs.
package authn

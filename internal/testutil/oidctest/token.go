package oidctest

import (
	"encoding/json"
	"maps"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// Token returns an RS256 JWT signed with the issuer's current key. Its claims
// are the defaults (iss = URL(), aud = DefaultAudience, sub = DefaultSubject,
// iat = now, exp = now+1h) overridden by claims. A nil value removes a default
// claim (to test a token without sub or exp); a time.Time value is written as
// a NumericDate (seconds since the epoch).
func (is *Issuer) Token(tb testing.TB, claims map[string]any) string {
	tb.Helper()
	return is.TokenWithKey(tb, is.Key(), claims)
}

// ExpiredToken is Token with iat two hours and exp one hour in the past,
// unless claims set them.
func (is *Issuer) ExpiredToken(tb testing.TB, claims map[string]any) string {
	tb.Helper()
	now := time.Now()
	c := map[string]any{"iat": now.Add(-2 * time.Hour), "exp": now.Add(-time.Hour)}
	maps.Copy(c, claims)
	return is.Token(tb, c)
}

// TokenWithKey is Token signed with k instead of the issuer's key. With a key
// from NewKey the token looks right in every claim but its signature, which no
// published key verifies; to reuse the issuer's kid (a forged token claiming a
// known key), pass Key{ID: is.Key().ID, Private: NewKey(tb).Private}.
func (is *Issuer) TokenWithKey(tb testing.TB, k Key, claims map[string]any) string {
	tb.Helper()
	now := time.Now()
	c := map[string]any{
		"iss": is.URL(),
		"aud": DefaultAudience,
		"sub": DefaultSubject,
		"iat": now.Unix(),
		"exp": now.Add(time.Hour).Unix(),
	}
	for name, v := range claims {
		switch v := v.(type) {
		case nil:
			delete(c, name)
		case time.Time:
			c[name] = v.Unix()
		default:
			c[name] = v
		}
	}
	return Sign(tb, k, c)
}

// Sign returns claims as an RS256 JWT signed with k, with exactly those claims
// and no defaults: for tokens no issuer would mint.
func Sign(tb testing.TB, k Key, claims map[string]any) string {
	tb.Helper()
	payload, err := json.Marshal(claims)
	if err != nil {
		tb.Fatalf("oidctest: marshal claims: %v", err)
	}
	signer, err := jose.NewSigner(
		jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: k.Private, KeyID: k.ID}},
		(&jose.SignerOptions{}).WithType("JWT"),
	)
	if err != nil {
		tb.Fatalf("oidctest: signer: %v", err)
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		tb.Fatalf("oidctest: sign: %v", err)
	}
	raw, err := jws.CompactSerialize()
	if err != nil {
		tb.Fatalf("oidctest: serialize: %v", err)
	}
	return raw
}

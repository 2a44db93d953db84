package authn_test

import (
	"context"
	"encoding/base64"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/verdict-pdp/verdict/internal/authn"
	"github.com/verdict-pdp/verdict/internal/testutil/oidctest"
	"github.com/verdict-pdp/verdict/internal/verr"
)

func newVerifier(t *testing.T, is *oidctest.Issuer, retry time.Duration) *authn.Verifier {
	t.Helper()
	v, err := authn.New(context.Background(), authn.Config{
		IssuerURL: is.URL(), Audience: oidctest.DefaultAudience, RetryInterval: retry,
	})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return v
}

// wantUnauthenticated checks that err is Unauthenticated and its message
// contains why.
func wantUnauthenticated(t *testing.T, err error, why string) {
	t.Helper()
	if verr.CodeOf(err) != verr.Unauthenticated {
		t.Fatalf("error = %v, want code %s", err, verr.Unauthenticated)
	}
	t.Logf("%v", err)
	if !strings.Contains(verr.As(err).Message, why) {
		t.Fatalf("message %q does not say %q", verr.As(err).Message, why)
	}
}

func TestVerifyValid(t *testing.T) {
	is := oidctest.Start(t)
	v := newVerifier(t, is, 0)
	tok := is.Token(t, map[string]any{
		"sub":                "u-42",
		"preferred_username": "alice",
		"org":                "acme",
		"designerUser":       true,
		"attributes":         map[string]any{"region": []string{"eu", "us"}, "tier": "gold", "none": []string{}},
	})
	id, err := v.Verify(context.Background(), tok)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if id.Subject != "u-42" || id.Username != "alice" || id.Org != "acme" {
		t.Errorf("identity = %+v", id)
	}
	if id.DesignerUser == nil || !*id.DesignerUser {
		t.Errorf("DesignerUser = %v, want true", id.DesignerUser)
	}
	want := map[string][]string{"region": {"eu", "us"}, "tier": {"gold"}, "none": {}}
	if len(id.Attributes) != len(want) {
		t.Fatalf("Attributes = %v, want %v", id.Attributes, want)
	}
	for k, vals := range want {
		if strings.Join(id.Attributes[k], ",") != strings.Join(vals, ",") || id.Attributes[k] == nil {
			t.Errorf("Attributes[%q] = %#v, want %#v", k, id.Attributes[k], vals)
		}
	}
	if id.Claims["iss"] != is.URL() {
		t.Errorf("Claims[iss] = %v", id.Claims["iss"])
	}
}

func TestVerifyAbsentClaims(t *testing.T) {
	is := oidctest.Start(t)
	v := newVerifier(t, is, 0)
	// aud as a list (Keycloak access tokens often carry several).
	id, err := v.Verify(context.Background(), is.Token(t, map[string]any{"aud": []string{"account", "verdict"}}))
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if id.Subject != oidctest.DefaultSubject || id.Org != "" || id.Username != "" || id.DesignerUser != nil || id.Attributes != nil {
		t.Errorf("identity = %+v, want only the subject", id)
	}
}

func TestDesignerUserForms(t *testing.T) {
	is := oidctest.Start(t)
	v := newVerifier(t, is, 0)
	for _, tc := range []struct {
		claim any
		want  bool
	}{
		{true, true}, {false, false}, {"true", true}, {"false", false},
		{"TRUE", true}, {[]string{"true"}, true}, // Keycloak's multivalued mapper
	} {
		id, err := v.Verify(context.Background(), is.Token(t, map[string]any{"designerUser": tc.claim}))
		if err != nil {
			t.Fatalf("designerUser %#v: %v", tc.claim, err)
		}
		if id.DesignerUser == nil || *id.DesignerUser != tc.want {
			t.Errorf("designerUser %#v: got %v, want %v", tc.claim, id.DesignerUser, tc.want)
		}
	}
}

// TestWrongClaimTypes: a verified token whose Verdict claims have the wrong
// shape is refused, not read as if they were absent.
func TestWrongClaimTypes(t *testing.T) {
	is := oidctest.Start(t)
	v := newVerifier(t, is, 0)
	for name, claims := range map[string]map[string]any{
		"designerUser yes":   {"designerUser": "yes"},
		"designerUser 1":     {"designerUser": 1},
		"org number":         {"org": 7},
		"org two values":     {"org": []string{"a", "b"}},
		"attributes list":    {"attributes": []string{"a"}},
		"attribute number":   {"attributes": map[string]any{"k": 1}},
		"attribute mixed":    {"attributes": map[string]any{"k": []any{"a", 2}}},
		"username object":    {"preferred_username": map[string]any{}},
		"no subject":         {"sub": nil},
		"empty subject":      {"sub": ""},
		"no expiry":          {"exp": nil},
		"not valid for long": {"nbf": time.Now().Add(time.Hour)},
	} {
		_, err := v.Verify(context.Background(), is.Token(t, claims))
		if verr.CodeOf(err) != verr.Unauthenticated {
			t.Errorf("%s: error = %v, want Unauthenticated", name, err)
		}
	}
}

func TestVerifyRejects(t *testing.T) {
	is := oidctest.Start(t)
	v := newVerifier(t, is, 0)
	forged := oidctest.Key{ID: is.Key().ID, Private: oidctest.NewKey(t).Private}
	for _, tc := range []struct{ name, token, why string }{
		{"expired", is.ExpiredToken(t, nil), "expired"},
		{"wrong audience", is.Token(t, map[string]any{"aud": "other-client"}), "audience"},
		{"unknown key", is.TokenWithKey(t, oidctest.NewKey(t), nil), "signature"},
		{"forged with known kid", is.TokenWithKey(t, forged, nil), "signature"},
		{"wrong issuer", is.Token(t, map[string]any{"iss": "https://evil.example"}), "issuer"},
		{"not yet valid", is.Token(t, map[string]any{"nbf": time.Now().Add(time.Hour)}), "not valid yet"},
		{"garbage", "not-a-token", "malformed"},
		{"three garbage parts", "a.b.c", "malformed"},
		{"empty", "", "empty"},
		{"huge", strings.Repeat("a", 1<<20), "larger"},
		{"HS256 with public key bytes", hs256(t, is), "malformed"},
		{"alg none", unsigned(is), "malformed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id, err := v.Verify(context.Background(), tc.token)
			if id != nil {
				t.Errorf("identity = %+v, want nil", id)
			}
			wantUnauthenticated(t, err, tc.why)
		})
	}
}

// hs256 is the algorithm-confusion attack: an HMAC token keyed with the
// issuer's public key, which a careless verifier would accept.
func hs256(t *testing.T, is *oidctest.Issuer) string {
	pub := is.Key().Private.PublicKey.N.Bytes()
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: pub}, nil)
	if err != nil {
		t.Fatal(err)
	}
	jws, err := s.Sign([]byte(`{"iss":"` + is.URL() + `","aud":"verdict","sub":"x","exp":9999999999}`))
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := jws.CompactSerialize()
	return raw
}

func unsigned(is *oidctest.Issuer) string {
	b64 := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	return b64(`{"alg":"none","typ":"JWT"}`) + "." +
		b64(`{"iss":"`+is.URL()+`","aud":"verdict","sub":"x","exp":9999999999}`) + "."
}

func TestKeyRotation(t *testing.T) {
	is := oidctest.Start(t)
	v := newVerifier(t, is, 0)
	old := is.Token(t, nil)
	if _, err := v.Verify(context.Background(), old); err != nil {
		t.Fatal(err)
	}
	is.RotateKey(t)
	if _, err := v.Verify(context.Background(), is.Token(t, nil)); err != nil {
		t.Fatalf("token signed with the new key: %v", err)
	}
	// go-oidc swaps its key cache just after answering and only refetches
	// on an unknown kid, so v may accept the retired key a while longer (as a
	// PDP would: the key was valid moments ago); a fresh verifier must not.
	_, err := newVerifier(t, is, 0).Verify(context.Background(), old)
	wantUnauthenticated(t, err, "signature")
}

func TestFromRequest(t *testing.T) {
	is := oidctest.Start(t)
	v := newVerifier(t, is, 0)
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Authorization", "bearer "+is.Token(t, map[string]any{"org": "acme"}))
	id, err := v.FromRequest(r)
	if err != nil || id.Org != "acme" {
		t.Fatalf("FromRequest = %+v, %v", id, err)
	}
	r.Header.Del("Authorization")
	_, err = v.FromRequest(r)
	wantUnauthenticated(t, err, "missing")
}

func TestConcurrentVerify(t *testing.T) {
	is := oidctest.Start(t)
	is.Down()
	v := newVerifier(t, is, time.Millisecond)
	is.Up()
	tok := is.Token(t, nil)
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for range 20 {
				_, _ = v.Verify(context.Background(), tok) // races on first discovery
			}
		})
	}
	wg.Wait()
	// The callers may all have finished within RetryInterval of a failed
	// attempt (a loaded machine): then the next attempt is the next call's.
	for deadline := time.Now().Add(time.Minute); ; { // a hang guard, not a measure
		_, err := v.Verify(context.Background(), tok)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if n := is.Hits(oidctest.DiscoveryPath); n != 1 {
		t.Errorf("discovery served %d times, want 1", n)
	}
}

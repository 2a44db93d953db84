package authn_test

import (
	"context"
	"testing"
	"time"

	"github.com/verdict-pdp/verdict/internal/authn"
	"github.com/verdict-pdp/verdict/internal/testutil/oidctest"
	"github.com/verdict-pdp/verdict/internal/verr"
)

// TestIssuerDownAtStart: New succeeds while the IdP is down, Verify fails
// closed until the IdP is back, then succeeds without a restart.
func TestIssuerDownAtStart(t *testing.T) {
	ctx := context.Background()
	is := oidctest.Start(t)
	is.Down()
	v := newVerifier(t, is, 10*time.Millisecond)
	tok := is.Token(t, map[string]any{"org": "acme"})

	_, err := v.Verify(ctx, tok)
	wantUnauthenticated(t, err, "discovery")
	if verr.CodeOf(v.Ready(ctx)) != verr.Unavailable {
		t.Errorf("Ready while down = %v, want Unavailable", v.Ready(ctx))
	}

	is.Up()
	time.Sleep(20 * time.Millisecond) // past RetryInterval
	id, err := v.Verify(ctx, tok)
	if err != nil {
		t.Fatalf("Verify after the IdP came back: %v", err)
	}
	if id.Org != "acme" {
		t.Errorf("Org = %q", id.Org)
	}
	if err := v.Ready(ctx); err != nil {
		t.Errorf("Ready = %v", err)
	}
}

// TestRetryInterval: during an outage at most one discovery per interval
// reaches the IdP, however many requests arrive.
func TestRetryInterval(t *testing.T) {
	ctx := context.Background()
	is := oidctest.Start(t)
	is.Down()
	v := newVerifier(t, is, time.Hour) // New made the one attempt of this hour
	is.Up()
	for range 5 {
		_, err := v.Verify(ctx, is.Token(t, nil))
		wantUnauthenticated(t, err, "discovery")
	}
	if n := is.Hits(oidctest.DiscoveryPath); n != 0 {
		t.Errorf("discovery requested %d times within the retry interval", n)
	}
}

// TestCanceledCallerDoesNotDelayRetry: a caller that gave up during discovery
// says nothing about the IdP, so the next caller tries at once.
func TestCanceledCallerDoesNotDelayRetry(t *testing.T) {
	is := oidctest.Start(t)
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	v, err := authn.New(canceled, authn.Config{IssuerURL: is.URL(), Audience: oidctest.DefaultAudience, RetryInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(context.Background(), is.Token(t, nil)); err != nil {
		t.Fatalf("Verify: %v", err)
	}
}

// TestIssuerMismatch: a reachable IdP whose discovery names another issuer is
// a configuration error, reported at start.
func TestIssuerMismatch(t *testing.T) {
	is := oidctest.Start(t)
	_, err := authn.New(context.Background(), authn.Config{IssuerURL: is.URL() + "/", Audience: "verdict"})
	if verr.CodeOf(err) != verr.InvalidInput || verr.As(err).Field != "issuer_url" {
		t.Fatalf("New = %v, want InvalidInput on issuer_url", err)
	}
}

func TestConfigValidate(t *testing.T) {
	c := authn.Config{IssuerURL: "https://kc.example/realms/acme", Audience: "verdict"}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.OrgClaim != "org" || c.DesignerClaim != "designerUser" || c.AttributesClaim != "attributes" ||
		c.RetryInterval != authn.DefaultRetryInterval || c.HTTPClient == nil || c.HTTPClient.Timeout == 0 {
		t.Errorf("defaults not applied: %+v", c)
	}
	for name, tc := range map[string]struct {
		cfg   authn.Config
		field string
	}{
		"no issuer":      {authn.Config{Audience: "verdict"}, "issuer_url"},
		"relative":       {authn.Config{IssuerURL: "/realms/acme", Audience: "verdict"}, "issuer_url"},
		"other scheme":   {authn.Config{IssuerURL: "ftp://kc/realms/acme", Audience: "verdict"}, "issuer_url"},
		"query":          {authn.Config{IssuerURL: "https://kc/realms/acme?x=1", Audience: "verdict"}, "issuer_url"},
		"no audience":    {authn.Config{IssuerURL: "https://kc/realms/acme"}, "audience"},
		"negative retry": {authn.Config{IssuerURL: "https://kc/realms/acme", Audience: "v", RetryInterval: -1}, "retry_interval"},
	} {
		err := tc.cfg.Validate()
		if verr.CodeOf(err) != verr.InvalidInput || verr.As(err).Field != tc.field {
			t.Errorf("%s: Validate = %v, want InvalidInput on %s", name, err, tc.field)
		}
		if _, err := authn.New(context.Background(), tc.cfg); verr.CodeOf(err) != verr.InvalidInput {
			t.Errorf("%s: New = %v, want InvalidInput", name, err)
		}
	}
}

// TestIssuerDownAfterDiscovery: keys already fetched keep verifying during an
// outage; a token naming a key not yet fetched fails closed and says why.
func TestIssuerDownAfterDiscovery(t *testing.T) {
	ctx := context.Background()
	is := oidctest.Start(t)
	v := newVerifier(t, is, 0)
	if _, err := v.Verify(ctx, is.Token(t, nil)); err != nil {
		t.Fatal(err)
	}
	is.Down()
	if _, err := v.Verify(ctx, is.Token(t, nil)); err != nil {
		t.Fatalf("cached key while the IdP is down: %v", err)
	}
	is.RotateKey(t)
	_, err := v.Verify(ctx, is.Token(t, nil))
	wantUnauthenticated(t, err, "signing keys unavailable")
	is.Up()
	// go-oidc may hand the next caller the failed fetch that is just ending,
	// so allow a few attempts: what matters is recovery without a restart.
	tok := is.Token(t, nil)
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(10 * time.Millisecond) { // a hang guard
		_, err := v.Verify(ctx, tok)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("rotated key once the IdP is back: %v", err)
		}
	}
}

package oidctest_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/verdict-pdp/verdict/internal/testutil/oidctest"
)

// TestDiscoveryAndVerify checks the issuer against go-oidc itself: discovery
// names this server, and a token verifies with the published key.
func TestDiscoveryAndVerify(t *testing.T) {
	ctx := context.Background()
	is := oidctest.Start(t)

	resp, err := http.Get(is.URL() + oidctest.DiscoveryPath)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var doc map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	if doc["issuer"] != is.URL() || doc["jwks_uri"] != is.URL()+oidctest.JWKSPath {
		t.Fatalf("discovery = %v", doc)
	}

	p, err := oidc.NewProvider(ctx, is.URL())
	if err != nil {
		t.Fatal(err)
	}
	v := p.Verifier(&oidc.Config{ClientID: oidctest.DefaultAudience})
	tok, err := v.Verify(ctx, is.Token(t, map[string]any{"sub": "alice", "org": "acme"}))
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	var c map[string]any
	if err := tok.Claims(&c); err != nil || c["sub"] != "alice" || c["org"] != "acme" {
		t.Fatalf("claims = %v, %v", c, err)
	}

	if _, err := v.Verify(ctx, is.ExpiredToken(t, nil)); err == nil {
		t.Error("expired token verified")
	}
	if _, err := v.Verify(ctx, is.TokenWithKey(t, oidctest.NewKey(t), nil)); err == nil {
		t.Error("token signed by an unknown key verified")
	}
	if _, err := v.Verify(ctx, is.Token(t, map[string]any{"exp": nil})); err == nil {
		t.Error("token without exp verified")
	}

	old := is.Token(t, nil)
	is.RotateKey(t)
	if _, err := v.Verify(ctx, is.Token(t, nil)); err != nil {
		t.Errorf("token signed with the rotated key: %v", err)
	}
	// go-oidc updates its key cache just after answering, so v itself may
	// accept the retired key for a moment: check with a fresh verifier.
	p, err = oidc.NewProvider(ctx, is.URL())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Verifier(&oidc.Config{ClientID: oidctest.DefaultAudience}).Verify(ctx, old); err == nil {
		t.Error("token signed with the retired key verified")
	}
}

func TestDownUp(t *testing.T) {
	ctx := context.Background()
	is := oidctest.Start(t)
	is.Down()
	if _, err := oidc.NewProvider(ctx, is.URL()); err == nil {
		t.Fatal("discovery succeeded while down")
	}
	is.Up()
	if _, err := oidc.NewProvider(ctx, is.URL()); err != nil {
		t.Fatalf("discovery after Up: %v", err)
	}
	if n := is.Hits(oidctest.DiscoveryPath); n != 1 {
		t.Errorf("discovery hits = %d, want 1 (the request while down is not served)", n)
	}
}

// TestAuthorizationCodeFlowWithPKCE walks the flow as a browser and a client
// do, through golang.org/x/oauth2 and go-oidc: the sign-in form, the code,
// the exchange with the verifier; a wrong verifier, a reused code and an
// unknown username are refused.
func TestAuthorizationCodeFlowWithPKCE(t *testing.T) {
	ctx := context.Background()
	is := oidctest.Start(t)
	is.AddUser("ada", map[string]any{"sub": "u-ada", "org": "demo"})
	p, err := oidc.NewProvider(ctx, is.URL())
	if err != nil {
		t.Fatal(err)
	}
	cfg := oauth2.Config{ClientID: "console", Endpoint: p.Endpoint(), RedirectURL: "http://127.0.0.1:1/cb", Scopes: []string{"openid"}}
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	signIn := func(username, verifier string) (*http.Response, error) {
		authURL := cfg.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier), oidc.Nonce("n-1"))
		resp, err := http.Get(authURL)
		if err != nil {
			return nil, err
		}
		page, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(page), `<label for="username">`) {
			t.Fatalf("sign-in form: %d %s", resp.StatusCode, page)
		}
		u, _ := url.Parse(authURL)
		form := u.Query()
		form.Set("username", username)
		return noRedirect.PostForm(is.URL()+oidctest.AuthPath, form)
	}
	resp, err := signIn("nobody", "v")
	if err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("unknown username: %v %v", resp, err)
	}
	verifier := oauth2.GenerateVerifier()
	resp, err = signIn("ada", verifier)
	if err != nil || resp.StatusCode != http.StatusFound {
		t.Fatalf("sign-in: %v %v", resp, err)
	}
	back, _ := url.Parse(resp.Header.Get("Location"))
	code := back.Query().Get("code")
	if back.Query().Get("state") != "st" || code == "" {
		t.Fatalf("redirect: %s", back)
	}
	if _, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(oauth2.GenerateVerifier())); err == nil {
		t.Error("a wrong PKCE verifier was accepted")
	}
	// The refused exchange used the code up: sign in again.
	resp, _ = signIn("ada", verifier)
	back, _ = url.Parse(resp.Header.Get("Location"))
	code = back.Query().Get("code")
	tok, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	if _, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(verifier)); err == nil {
		t.Error("a code was accepted twice")
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := p.Verifier(&oidc.Config{ClientID: "console"}).Verify(ctx, raw)
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	_ = idt.Claims(&c)
	if idt.Subject != "u-ada" || idt.Nonce != "n-1" || c["org"] != "demo" || c["preferred_username"] != "ada" {
		t.Errorf("id token: sub %s nonce %s claims %v", idt.Subject, idt.Nonce, c)
	}
	// Without PKCE the issuer refuses to start.
	if r, err := http.Get(cfg.AuthCodeURL("st")); err != nil || r.StatusCode != http.StatusBadRequest {
		t.Errorf("no code_challenge: %v %v", r, err)
	}
}

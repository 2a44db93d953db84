package console

import (
	"context"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/gin-gonic/gin"
	"golang.org/x/oauth2"
)

// signIn is the OIDC authorization code flow with PKCE: the provider is
// discovered on first use (the issuer may be down when the server starts),
// and each sign-in in progress is kept, under its state, until its callback
// or for ten minutes.
type signIn struct {
	cfg Config

	mu       sync.Mutex
	provider *oidc.Provider
	pending  map[string]pendingSignIn
}

type pendingSignIn struct {
	verifier, nonce, redirect string
	expires                   time.Time
}

const maxPending = 10000

func newSignIn(cfg Config) *signIn { return &signIn{cfg: cfg, pending: map[string]pendingSignIn{}} }

func (s *signIn) discover(ctx context.Context) (*oidc.Provider, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.provider != nil {
		return s.provider, nil
	}
	p, err := oidc.NewProvider(oidc.ClientContext(ctx, s.cfg.HTTPClient), s.cfg.IssuerURL)
	if err != nil {
		return nil, err
	}
	s.provider = p
	return p, nil
}

func (s *signIn) oauth(p *oidc.Provider, redirect string) *oauth2.Config {
	return &oauth2.Config{ClientID: s.cfg.ClientID, ClientSecret: s.cfg.ClientSecret, Endpoint: p.Endpoint(),
		RedirectURL: redirect, Scopes: []string{oidc.ScopeOpenID, "profile"}}
}

// callbackURL is where the issuer sends the browser back: this server, as
// the browser reached it.
func callbackURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return (&url.URL{Scheme: scheme, Host: r.Host, Path: "/console/callback"}).String()
}

func (con *Console) login(c *gin.Context) {
	if con.cfg.Dev {
		c.Redirect(http.StatusFound, "/console/")
		return
	}
	s := con.auth
	p, err := s.discover(c.Request.Context())
	if err != nil {
		con.cfg.Log.Warn("console sign-in: issuer discovery failed", "err", err)
		c.String(http.StatusServiceUnavailable, "Sign-in is unavailable: the identity provider cannot be reached. Try again in a moment.")
		return
	}
	state, nonce, verifier := randomString(24), randomString(24), oauth2.GenerateVerifier()
	redirect := callbackURL(c.Request)
	s.mu.Lock()
	now := time.Now()
	for k, v := range s.pending {
		if now.After(v.expires) || len(s.pending) >= maxPending {
			delete(s.pending, k)
		}
	}
	s.pending[state] = pendingSignIn{verifier: verifier, nonce: nonce, redirect: redirect, expires: now.Add(10 * time.Minute)}
	s.mu.Unlock()
	c.Redirect(http.StatusFound, s.oauth(p, redirect).AuthCodeURL(state, oauth2.S256ChallengeOption(verifier), oidc.Nonce(nonce)))
}

func (con *Console) callback(c *gin.Context) {
	if con.cfg.Dev {
		c.Redirect(http.StatusFound, "/console/")
		return
	}
	s := con.auth
	fail := func(status int, msg string) {
		c.String(status, "Sign-in failed: %s. Start again at /console/login.", msg)
	}
	if e := c.Query("error"); e != "" {
		fail(http.StatusUnauthorized, "the identity provider said "+e)
		return
	}
	state := c.Query("state")
	s.mu.Lock()
	pend, ok := s.pending[state]
	delete(s.pending, state)
	s.mu.Unlock()
	if !ok || time.Now().After(pend.expires) {
		fail(http.StatusBadRequest, "unknown or expired sign-in (state)")
		return
	}
	ctx, cancel := context.WithTimeout(oidc.ClientContext(c.Request.Context(), s.cfg.HTTPClient), 15*time.Second)
	defer cancel()
	p, err := s.discover(ctx)
	if err != nil {
		fail(http.StatusServiceUnavailable, "the identity provider cannot be reached")
		return
	}
	tok, err := s.oauth(p, pend.redirect).Exchange(ctx, c.Query("code"), oauth2.VerifierOption(pend.verifier))
	if err != nil {
		con.cfg.Log.Warn("console sign-in: code exchange refused", "err", err)
		fail(http.StatusUnauthorized, "the identity provider refused the code")
		return
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := p.Verifier(&oidc.Config{ClientID: s.cfg.ClientID}).Verify(ctx, raw)
	if err != nil {
		fail(http.StatusUnauthorized, "the ID token does not verify")
		return
	}
	if idt.Nonce != pend.nonce {
		fail(http.StatusUnauthorized, "the ID token is not for this sign-in (nonce)")
		return
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		fail(http.StatusUnauthorized, "malformed ID token claims")
		return
	}
	org, _ := claims[s.cfg.OrgClaim].(string)
	if org == "" {
		fail(http.StatusForbidden, "your token names no organization (claim "+s.cfg.OrgClaim+")")
		return
	}
	username, _ := claims["preferred_username"].(string)
	if username == "" {
		username = idt.Subject
	}
	sess := con.sess.create(idt.Subject, username, org)
	setCookie(c, cookieName, sess.id, int(s.cfg.SessionTTL.Seconds()))
	c.Redirect(http.StatusFound, "/console/")
}

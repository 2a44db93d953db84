// Package console is the access console served by `verdict serve` at
// /console/: server-rendered pages (html/template, static files embedded, no
// JavaScript needed to read or to act) for what FlowX admins manage under
// Organization Settings → Access Management (End-Users, End-Users Roles,
// End-Users Groups), per solution and environment (the Share dialog, Runtime
// Settings → Active Policy), the audit trail, and "Test as a user": the
// permission manifest of a user, real or hypothetical, and how it changes with
// a group joined or a role shared, before anything is saved.
//
// Who owns what: the console holds no data. Every read and write goes through
// the admin rules (internal/admin/domain: its checks, cascades and audit),
// every permission check through the decision engine (rule 10, as the admin
// API), every manifest through the decision service (pdp), whose simulations
// change an in-memory copy of the facts only. It owns its sessions and
// pending sign-ins (in memory, bounded, expiring), guarded by a mutex: a
// Console is safe for concurrent use.
package console

import (
	"context"
	"embed"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/verdict-pdp/verdict/internal/admin/domain"
	"github.com/verdict-pdp/verdict/internal/pdp"
	"github.com/verdict-pdp/verdict/internal/store"
	"github.com/verdict-pdp/verdict/internal/verr"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Config of the console.
type Config struct {
	// Store and PDP are the ones `verdict serve` runs with.
	Store *store.Store
	PDP   *pdp.Service
	// Invalidate drops this PDP's cached facts of an org after a write, so
	// the next manifest sees it (others learn of it from the change feed).
	Invalidate func(org string)
	// Dev opens the console signed in as DevSubject of DevOrg, without
	// sign-in, and says so on every page.
	Dev        bool
	DevOrg     string
	DevSubject string
	// OIDC sign-in (authorization code flow with PKCE), unless Dev.
	IssuerURL    string
	ClientID     string
	ClientSecret string // "" for a public client (PKCE alone)
	// OrgClaim names the ID token claim holding the admin's org (default "org").
	OrgClaim string
	// SessionTTL bounds a session (default 8h).
	SessionTTL time.Duration
	// HTTPClient talks to the issuer (default: 10s timeout).
	HTTPClient *http.Client
	Log        *slog.Logger
}

// Validate checks the configuration and fills defaults.
func (c *Config) Validate() error {
	if c.Store == nil || c.PDP == nil {
		return verr.New(verr.InvalidInput, "console", "needs the store and the decision service")
	}
	if c.Invalidate == nil {
		c.Invalidate = func(string) {}
	}
	if c.OrgClaim == "" {
		c.OrgClaim = "org"
	}
	if c.SessionTTL == 0 {
		c.SessionTTL = 8 * time.Hour
	}
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	if c.Dev {
		if c.DevOrg == "" || c.DevSubject == "" {
			return verr.New(verr.InvalidInput, "console", "dev mode needs the org and the admin it signs in as")
		}
		return nil
	}
	if c.IssuerURL == "" || c.ClientID == "" {
		return verr.New(verr.InvalidInput, "console", "sign-in needs the OIDC issuer and a client id")
	}
	return nil
}

// Console serves the pages.
type Console struct {
	cfg   Config
	dom   *domain.Admin
	tmpl  map[string]*template.Template
	auth  *signIn
	sess  *sessions
	start time.Time
}

// Register mounts the console under /console/ on r.
func Register(r gin.IRouter, cfg Config) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	t, err := parseTemplates()
	if err != nil {
		return err
	}
	c := &Console{cfg: cfg, dom: domain.New(cfg.Store), tmpl: t, sess: newSessions(cfg.SessionTTL), start: time.Now()}
	if !cfg.Dev {
		c.auth = newSignIn(cfg)
	}
	static, _ := fs.Sub(staticFS, "static")
	g := r.Group("/console")
	g.Use(securityHeaders)
	g.StaticFS("/static", http.FS(static))
	g.GET("/login", c.login)
	g.GET("/callback", c.callback)
	a := g.Group("", c.signedIn, c.csrf)
	a.POST("/logout", c.logout)
	c.routes(a)
	r.GET("/console", func(gc *gin.Context) { gc.Redirect(http.StatusFound, "/console/") })
	return nil
}

// securityHeaders: pages are never framed, never sniffed, and load nothing
// from elsewhere.
func securityHeaders(c *gin.Context) {
	h := c.Writer.Header()
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'; form-action 'self'")
	c.Next()
}

// ctx bounds the work of one page.
func reqCtx(c *gin.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(c.Request.Context(), 15*time.Second)
}

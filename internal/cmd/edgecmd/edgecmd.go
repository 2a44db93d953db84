// Package edgecmd is `verdict edge`: a read-only PDP deciding from signed
// OPA bundles (see docs/bundles.md), with the central PDP's decision APIs and
// no Redis, no admin API.
package edgecmd

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"github.com/verdict-pdp/verdict/internal/tlsconf"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/verdict-pdp/verdict/internal/api"
	"github.com/verdict-pdp/verdict/internal/authn"
	"github.com/verdict-pdp/verdict/internal/bundle"
	"github.com/verdict-pdp/verdict/internal/edge"
	"github.com/verdict-pdp/verdict/internal/verr"
)

// Config of `verdict edge`.
type Config struct {
	Addr            string
	Bundles         []string
	VerificationKey string // PEM public key file
	DataDir         string
	DefaultOrg      string
	Auth            string // "oidc" (default) or "none"
	OIDCIssuer      string
	OIDCAudience    string
	TLSCert, TLSKey string
	TLSClientCA     string // require client certificates signed by it
	BearerTokenFile string
	CACert          string
	LongPoll        time.Duration
}

// Validate checks the configuration and fills defaults.
func (c *Config) Validate() error {
	if c.Addr == "" {
		c.Addr = "127.0.0.1:8181"
	}
	if len(c.Bundles) == 0 {
		return verr.New(verr.InvalidInput, "bundle", "at least one --bundle URL or file is required")
	}
	if c.VerificationKey == "" {
		return verr.New(verr.InvalidInput, "verification-key", "required: an edge only runs signed bundles")
	}
	switch c.Auth {
	case "", "oidc":
		c.Auth = "oidc"
		if c.OIDCIssuer == "" || c.OIDCAudience == "" {
			return verr.New(verr.InvalidInput, "oidc-issuer", "--oidc-issuer and --oidc-audience are required with --auth=oidc; sign-in can only be turned off explicitly with --auth=none")
		}
	case "none":
	default:
		return verr.New(verr.InvalidInput, "auth", "must be oidc or none, not %q", c.Auth)
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return verr.New(verr.InvalidInput, "tls-cert", "--tls-cert and --tls-key go together")
	}
	return nil
}

type multi []string

func (m *multi) String() string     { return strings.Join(*m, ",") }
func (m *multi) Set(v string) error { *m = append(*m, v); return nil }

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// Run runs the command until ctx ends.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("edge", flag.ContinueOnError)
	fs.SetOutput(stderr)
	c := &Config{}
	var bundles multi
	fs.Var(&bundles, "bundle", "bundle URL (http(s)://central/bundles/ORG/ENV|all.tar.gz) or file; repeatable, one per org")
	fs.StringVar(&c.VerificationKey, "verification-key", env("VERDICT_VERIFICATION_KEY", ""), "PEM public key bundles must be signed with (env VERDICT_VERIFICATION_KEY)")
	fs.StringVar(&c.Addr, "addr", env("VERDICT_ADDR", ""), "listen address (default 127.0.0.1:8181; env VERDICT_ADDR)")
	fs.StringVar(&c.DataDir, "data-dir", env("VERDICT_DATA_DIR", ""), "keep the last good bundles here and start from them (env VERDICT_DATA_DIR)")
	fs.StringVar(&c.DefaultOrg, "default-org", env("VERDICT_DEFAULT_ORG", ""), "org of requests without context.org")
	fs.StringVar(&c.Auth, "auth", env("VERDICT_AUTH", ""), "caller sign-in: oidc (default) or none")
	fs.StringVar(&c.OIDCIssuer, "oidc-issuer", env("VERDICT_OIDC_ISSUER", ""), "OIDC issuer URL")
	fs.StringVar(&c.OIDCAudience, "oidc-audience", env("VERDICT_OIDC_AUDIENCE", ""), "OIDC audience")
	fs.StringVar(&c.TLSCert, "tls-cert", "", "TLS certificate (PEM)")
	fs.StringVar(&c.TLSKey, "tls-key", "", "TLS key (PEM)")
	fs.StringVar(&c.TLSClientCA, "tls-client-ca", "", "require client certificates signed by this CA (mutual TLS)")
	fs.StringVar(&c.BearerTokenFile, "bearer-token-file", "", "send this file's token to the central PDP (read again on every request)")
	fs.StringVar(&c.CACert, "ca-cert", "", "CA certificate (PEM) of the central PDP's TLS certificate")
	fs.DurationVar(&c.LongPoll, "long-poll", 30*time.Second, "how long the central PDP may hold a bundle request open waiting for a change")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "verdict edge: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	c.Bundles = bundles
	if err := c.Validate(); err != nil {
		fmt.Fprintf(stderr, "verdict edge: %v\n", err)
		return 2
	}
	log := slog.New(slog.NewJSONHandler(stderr, nil))
	srv, err := Start(ctx, c, log)
	if err != nil {
		fmt.Fprintf(stderr, "verdict edge: %v\n", err)
		return 1
	}
	<-ctx.Done()
	log.Info("shutting down")
	srv.Close()
	return 0
}

// Server is a running edge PDP.
type Server struct {
	Addr string // the address it listens on
	Edge *edge.Edge
	http *http.Server
}

// Close shuts the server down gracefully, then stops OPA.
func (s *Server) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = s.http.Shutdown(ctx)
	s.Edge.Close()
}

// Start starts an edge as configured and returns once it listens (bundles
// activate in the background; /ready says when).
func Start(ctx context.Context, c *Config, log *slog.Logger) (*Server, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	key, err := bundle.LoadVerificationKey(c.VerificationKey)
	if err != nil {
		return nil, err
	}
	var verifier *authn.Verifier
	if c.Auth == "oidc" {
		if verifier, err = authn.New(ctx, authn.Config{IssuerURL: c.OIDCIssuer, Audience: c.OIDCAudience}); err != nil {
			return nil, err
		}
	} else {
		log.Warn("caller sign-in is OFF (--auth=none): anyone who reaches this port may ask")
	}
	if c.DataDir == "" {
		log.Warn("no --data-dir: downloaded bundles are not kept; after a restart this edge decides nothing until the control plane answers")
	}
	e, err := edge.Start(ctx, edge.Config{
		Bundles: c.Bundles, VerificationKey: key, DataDir: c.DataDir, DefaultOrg: c.DefaultOrg,
		BearerTokenFile: c.BearerTokenFile, CACert: c.CACert, LongPoll: c.LongPoll, Log: log,
	})
	if err != nil {
		return nil, err
	}
	// No Admin: an edge is read-only; its facts change only by bundle.
	h, err := api.New(api.Config{}, api.Deps{PDP: e, Verifier: verifier, Ready: e.Ready, Metrics: api.NewMetrics(nil), Log: log})
	if err != nil {
		e.Close()
		return nil, err
	}
	ln, err := net.Listen("tcp", c.Addr)
	if err != nil {
		e.Close()
		return nil, err
	}
	s := &Server{Addr: ln.Addr().String(), Edge: e, http: &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout: 30 * time.Second, WriteTimeout: 60 * time.Second, IdleTimeout: 120 * time.Second}}
	if c.TLSCert != "" {
		tc, err := tlsconf.Server(c.TLSCert, c.TLSKey, c.TLSClientCA)
		if err != nil {
			_ = ln.Close()
			e.Close()
			return nil, err
		}
		s.http.TLSConfig = tc
		ln = tls.NewListener(ln, tc)
	}
	go func() {
		if err := s.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("server stopped", "err", err)
		}
	}()
	log.Info("verdict edge serving", "addr", s.Addr, "tls", c.TLSCert != "", "auth", c.Auth, "bundles", c.Bundles,
		"data_dir", c.DataDir, "active", e.Revision())
	return s, nil
}

// Package edgecmd is `verdict edge`: a read-only PDP deciding from signed
// OPA bundles (see docs/bundles.md), with the central PDP's decision APIs and
// no Redis, no admin API.
package edgecmd

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/verdict-pdp/verdict/internal/cmd/cliflag"
	"github.com/verdict-pdp/verdict/internal/tlsconf"
	"github.com/verdict-pdp/verdict/internal/tracing"

	"github.com/gin-gonic/gin"

	"github.com/verdict-pdp/verdict/internal/api"
	"github.com/verdict-pdp/verdict/internal/authn"
	"github.com/verdict-pdp/verdict/internal/bundle"
	"github.com/verdict-pdp/verdict/internal/edge"
	"github.com/verdict-pdp/verdict/internal/engine"
	"github.com/verdict-pdp/verdict/internal/limits"
	"github.com/verdict-pdp/verdict/internal/openapi"
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
	// MaxRequests bounds the requests in progress (package limits; default
	// 1024); DataPathsMax the data API's prepared queries (default 512).
	MaxRequests  int
	DataPathsMax int
	// The HTTP server's timeouts (defaults 5s, 30s, 60s, 120s), as on the
	// central PDP.
	ReadHeaderTimeout, ReadTimeout, WriteTimeout, IdleTimeout time.Duration
	// AccessLog: all (default), errors or off, as on the central PDP.
	AccessLog string
	// OTLPEndpoint, OTLPInsecure, OTLPSampleRatio: tracing, as on the
	// central PDP (off by default).
	OTLPEndpoint    string
	OTLPInsecure    bool
	OTLPSampleRatio float64
}

func (c *Config) tracing() tracing.Config {
	return tracing.Config{Endpoint: c.OTLPEndpoint, Insecure: c.OTLPInsecure, SampleRatio: c.OTLPSampleRatio, ServiceName: "verdict-edge"}
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
	o := api.ObserveConfig{AccessLog: c.AccessLog}
	if err := o.Validate(); err != nil {
		return err
	}
	t := c.tracing()
	if err := t.Validate(); err != nil {
		return err
	}
	c.AccessLog, c.OTLPSampleRatio = o.AccessLog, t.SampleRatio
	return c.validateLimits()
}

// validateLimits checks the bounds of docs/limits.md and fills their
// defaults (0 keeps the default).
func (c *Config) validateLimits() error {
	if c.MaxRequests < 0 || c.DataPathsMax < 0 || c.ReadHeaderTimeout < 0 || c.ReadTimeout < 0 || c.WriteTimeout < 0 || c.IdleTimeout < 0 {
		return verr.New(verr.InvalidInput, "max-requests", "limits and timeouts must not be negative")
	}
	c.MaxRequests = cmp.Or(c.MaxRequests, limits.DefaultMaxRequests)
	c.DataPathsMax = cmp.Or(c.DataPathsMax, engine.DefaultDataPathsMax)
	c.ReadHeaderTimeout = cmp.Or(c.ReadHeaderTimeout, 5*time.Second)
	c.ReadTimeout = cmp.Or(c.ReadTimeout, 30*time.Second)
	c.WriteTimeout = cmp.Or(c.WriteTimeout, 60*time.Second)
	c.IdleTimeout = cmp.Or(c.IdleTimeout, 120*time.Second)
	return nil
}

type multi []string

func (m *multi) String() string     { return strings.Join(*m, ",") }
func (m *multi) Set(v string) error { *m = append(*m, v); return nil }

// Run runs the command until ctx ends.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cmd := cliflag.New("edge", "--bundle URL_OR_FILE... --verification-key KEY.pem [flags]",
		`Runs an edge PDP: the same decision APIs as the central PDP (AuthZEN, OPA's data API,
filters), no Redis, deciding from signed bundles. Each --bundle is polled (long polling,
ETag); a bundle whose signature fails is refused and the last good one stays. With
--data-dir the last good bundles are kept on disk and an edge restarted while the central
PDP is unreachable starts from them. /ready answers 200 once every org has a bundle.`,
		"verdict edge --bundle http://central:8181/bundles/demo/all.tar.gz --verification-key keys/verification.pem --auth none",
		"verdict edge --bundle https://pdp.example.com/bundles/acme/prod.tar.gz --verification-key pub.pem \\\n      --bearer-token-file /run/secrets/token --data-dir /var/lib/verdict \\\n      --oidc-issuer https://idp.example.com --oidc-audience verdict",
		"verdict edge --bundle bundles/demo.tar.gz --verification-key pub.pem --auth none --addr 127.0.0.1:8282")
	c := &Config{}
	var bundles multi
	cmd.Var(&bundles, "bundle", "bundle `URL` (http(s)://central/bundles/ORG/ENV|all.tar.gz) or file; repeatable, one per org")
	cmd.StringVar(&c.VerificationKey, "verification-key", "", "PEM public `KEY` bundles must be signed with")
	cmd.Env("verification-key", "VERDICT_VERIFICATION_KEY")
	cmd.StringVar(&c.Addr, "addr", "127.0.0.1:8181", "listen address `ADDR`")
	cmd.Env("addr", "VERDICT_ADDR")
	cmd.StringVar(&c.DataDir, "data-dir", "", "keep the last good bundles in `DIR` and start from them")
	cmd.Env("data-dir", "VERDICT_DATA_DIR")
	cmd.StringVar(&c.DefaultOrg, "default-org", "", "`ORG` of requests without context.org")
	cmd.Env("default-org", "VERDICT_DEFAULT_ORG")
	cmd.StringVar(&c.Auth, "auth", "oidc", "caller sign-in: `oidc|none` (none must be given explicitly)")
	cmd.Env("auth", "VERDICT_AUTH")
	cmd.StringVar(&c.OIDCIssuer, "oidc-issuer", "", "OIDC issuer `URL`")
	cmd.Env("oidc-issuer", "VERDICT_OIDC_ISSUER")
	cmd.StringVar(&c.OIDCAudience, "oidc-audience", "", "OIDC `AUDIENCE`")
	cmd.Env("oidc-audience", "VERDICT_OIDC_AUDIENCE")
	cmd.StringVar(&c.TLSCert, "tls-cert", "", "TLS certificate `FILE` (PEM)")
	cmd.StringVar(&c.TLSKey, "tls-key", "", "TLS key `FILE` (PEM)")
	cmd.StringVar(&c.TLSClientCA, "tls-client-ca", "", "require client certificates signed by this CA `FILE` (mutual TLS)")
	cmd.StringVar(&c.BearerTokenFile, "bearer-token-file", "", "send this `FILE`'s token to the central PDP (read again on every request)")
	cmd.StringVar(&c.CACert, "ca-cert", "", "CA certificate `FILE` (PEM) of the central PDP's TLS certificate")
	cmd.DurationVar(&c.LongPoll, "long-poll", 30*time.Second, "how long the central PDP may hold a bundle request open waiting for a change")
	cmd.StringVar(&c.AccessLog, "access-log", "all", "one log line per request: `all|errors|off` (errors: answers 4xx and 5xx)")
	cmd.Env("access-log", "VERDICT_ACCESS_LOG")
	cmd.StringVar(&c.OTLPEndpoint, "otlp-endpoint", "", "send OpenTelemetry traces to this OTLP/HTTP collector `URL` (http://collector:4318, or host:port); off by default (OTEL_EXPORTER_OTLP_ENDPOINT is honoured)")
	cmd.Env("otlp-endpoint", "VERDICT_OTLP_ENDPOINT")
	cmd.BoolVar(&c.OTLPInsecure, "otlp-insecure", false, "a host:port --otlp-endpoint over plain HTTP")
	cmd.Env("otlp-insecure", "VERDICT_OTLP_INSECURE")
	cmd.Float64Var(&c.OTLPSampleRatio, "otlp-sample-ratio", 1, "share of traces started here that are recorded")
	cmd.Env("otlp-sample-ratio", "VERDICT_OTLP_SAMPLE_RATIO")
	cmd.IntVar(&c.MaxRequests, "max-requests", 0, "requests in progress at once; past it 503 with Retry-After (default 1024; /health, /ready, /metrics not counted)")
	cmd.IntVar(&c.DataPathsMax, "data-paths-max", 0, "prepared queries kept for OPA's data API, least recently used forgotten (default 512)")
	cmd.DurationVar(&c.ReadHeaderTimeout, "read-header-timeout", 0, "time to read a request's headers (default 5s)")
	cmd.DurationVar(&c.ReadTimeout, "read-timeout", 0, "time to read a whole request (default 30s)")
	cmd.DurationVar(&c.WriteTimeout, "write-timeout", 0, "time to write an answer (default 60s)")
	cmd.DurationVar(&c.IdleTimeout, "idle-timeout", 0, "time an idle keep-alive connection stays open (default 120s)")
	for _, name := range []string{"max-requests", "data-paths-max", "read-header-timeout", "read-timeout", "write-timeout", "idle-timeout"} {
		cmd.Env(name, "VERDICT_"+strings.ToUpper(strings.ReplaceAll(name, "-", "_")))
	}
	pos, code, ok := cmd.Parse(args, stdout, stderr)
	if !ok {
		return code
	}
	if len(pos) > 0 {
		return cmd.Fail(stderr, "unexpected argument %q", pos[0])
	}
	c.Bundles = bundles
	if err := c.Validate(); err != nil {
		return cmd.Fail(stderr, "%v", err)
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
	Addr    string // the address it listens on
	Edge    *edge.Edge
	http    *http.Server
	tracing *tracing.Tracing
	// routes are the API's routes (internal/openapi's route test).
	routes gin.RoutesInfo
}

// Routes lists every route the edge answers (method and path in Gin's
// syntax).
func (s *Server) Routes() gin.RoutesInfo { return s.routes }

// Close shuts the server down gracefully, then stops OPA, then flushes the
// last traces.
func (s *Server) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = s.http.Shutdown(ctx)
	s.Edge.Close()
	_ = s.tracing.Shutdown(ctx) // best effort: the edge is stopping
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
	tr, err := tracing.Start(ctx, c.tracing())
	if err != nil {
		return nil, err
	}
	e, err := edge.Start(ctx, edge.Config{
		Bundles: c.Bundles, VerificationKey: key, DataDir: c.DataDir, DefaultOrg: c.DefaultOrg,
		BearerTokenFile: c.BearerTokenFile, CACert: c.CACert, LongPoll: c.LongPoll, DataPathsMax: c.DataPathsMax, Log: log,
	})
	if err != nil {
		_ = tr.Shutdown(ctx) // the error said is the start's
		return nil, err
	}
	// No Admin: an edge is read-only; its facts change only by bundle.
	metrics := api.NewMetrics(nil)
	h, err := api.New(api.Config{}, api.Deps{PDP: e, Verifier: verifier, Ready: e.Ready, Metrics: metrics, Log: log,
		OpenAPI: openapi.Edge(), Tracing: tr})
	var routes gin.RoutesInfo
	if err == nil {
		routes = api.Routes(h)
		var lim *limits.Limiter
		// A request past --max-requests costs no work but its access-log
		// line (docs/limits.md).
		if lim, err = limits.New(limits.Config{MaxRequests: c.MaxRequests, Registry: metrics.Registry()}); err == nil {
			h, err = api.Observe(lim.Wrap(h), api.ObserveConfig{AccessLog: c.AccessLog, Log: log, Tracing: tr})
		}
	}
	if err != nil {
		e.Close()
		_ = tr.Shutdown(ctx) // the error said is the start's
		return nil, err
	}
	ln, err := net.Listen("tcp", c.Addr)
	if err != nil {
		e.Close()
		_ = tr.Shutdown(ctx) // the error said is the start's
		return nil, err
	}
	s := &Server{Addr: ln.Addr().String(), Edge: e, tracing: tr, routes: routes, http: &http.Server{Handler: h, ReadHeaderTimeout: c.ReadHeaderTimeout,
		ReadTimeout: c.ReadTimeout, WriteTimeout: c.WriteTimeout, IdleTimeout: c.IdleTimeout}}
	if c.TLSCert != "" {
		tc, err := tlsconf.Server(c.TLSCert, c.TLSKey, c.TLSClientCA)
		if err != nil {
			_ = ln.Close()
			e.Close()
			_ = tr.Shutdown(ctx) // the error said is the start's
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
		"data_dir", c.DataDir, "active", e.Revision(), "access_log", c.AccessLog, "tracing", tr.Enabled())
	return s, nil
}

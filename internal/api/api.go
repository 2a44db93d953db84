// Package api serves Verdict over HTTP with Gin: AuthZEN decisions (single,
// batch, search), OPA's data API, business filters, the operational endpoints
// and, when given, the admin API. Handlers hold no state of their own; what
// they use (decision service, verifier, metrics) is safe for concurrent use.
package api

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/verdict-pdp/verdict/internal/authn"
	"github.com/verdict-pdp/verdict/internal/authzen"
	"github.com/verdict-pdp/verdict/internal/decision"
	"github.com/verdict-pdp/verdict/internal/frontdoor"
	"github.com/verdict-pdp/verdict/internal/pdp"
	"github.com/verdict-pdp/verdict/internal/tracing"
	"github.com/verdict-pdp/verdict/internal/verr"
)

// Config of the HTTP API.
type Config struct {
	// MaxBodyBytes bounds a decision request body (default 1 MiB).
	MaxBodyBytes int64
	// RequestTimeout bounds the work of one request (default 5s).
	RequestTimeout time.Duration
	// MaxBatch bounds the evaluations of one batch request (default 1000).
	MaxBatch int
	// ReadyTimeout bounds /ready (default 1s): a check that has not
	// answered by then is reported as slow and the PDP as not ready.
	ReadyTimeout time.Duration
}

// Validate checks the configuration and fills defaults.
func (c *Config) Validate() error {
	if c.MaxBodyBytes == 0 {
		c.MaxBodyBytes = 1 << 20
	}
	if c.RequestTimeout == 0 {
		c.RequestTimeout = 5 * time.Second
	}
	if c.MaxBatch == 0 {
		c.MaxBatch = 1000
	}
	if c.ReadyTimeout == 0 {
		c.ReadyTimeout = time.Second
	}
	if c.MaxBodyBytes < 0 || c.RequestTimeout < 0 || c.MaxBatch < 0 || c.ReadyTimeout < 0 {
		return verr.New(verr.InvalidInput, "api", "limits must be positive")
	}
	return nil
}

var _ decision.Decider = (*pdp.Service)(nil)

// Deps are what the API serves with.
type Deps struct {
	PDP decision.Decider
	// Verifier authenticates callers and subject tokens; nil turns caller
	// sign-in off (dev mode and --auth=none only).
	Verifier *authn.Verifier
	// Ready reports whether the PDP can decide (an edge: a bundle active);
	// /ready names it "pdp". May be nil.
	Ready func(ctx context.Context) error
	// ReadyChecks are further named checks of /ready ("redis": reachable).
	ReadyChecks map[string]func(ctx context.Context) error
	// Admin, when set, registers the admin API.
	Admin func(r gin.IRouter)
	// Decisions receives every decision (decision log); may be nil.
	Decisions DecisionLogger
	Metrics   *Metrics
	Log       *slog.Logger
	// OpenAPI is the server's API description, served at /openapi.json
	// (internal/openapi: Central or Edge); nil serves none.
	OpenAPI []byte
	// Tracing, when on, has every decision traced under its decision id;
	// nil or off: decision ids are made only for the decision log.
	Tracing *tracing.Tracing
}

// Server is the HTTP API.
type Server struct {
	cfg Config
	Deps
	// decisionIDs: each decision gets an id (decision log or tracing on).
	decisionIDs bool
}

// New returns the API handler.
func New(cfg Config, d Deps) (http.Handler, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if d.PDP == nil {
		return nil, verr.New(verr.InvalidInput, "pdp", "required")
	}
	if d.Metrics == nil {
		d.Metrics = NewMetrics(nil)
	}
	if d.Log == nil {
		d.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s := &Server{cfg: cfg, Deps: d}
	s.decisionIDs = d.Decisions != nil || (d.Tracing != nil && d.Tracing.Enabled())
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.Use(gin.Recovery(), requestID, noteRoute, s.timeout)
	r.GET("/health", func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"status": "ok"}) })
	r.GET("/ready", s.ready)
	r.GET("/metrics", gin.WrapH(s.Metrics.Handler()))
	r.GET("/.well-known/authzen-configuration", s.wellKnown)
	s.openAPI(r)
	access := r.Group("/access/v1", s.authenticate)
	access.POST("/evaluation", s.evaluation)
	access.POST("/evaluations", s.evaluations)
	access.POST("/search/subject", s.search(authzen.SearchSubject))
	access.POST("/search/resource", s.search(authzen.SearchResource))
	access.POST("/search/action", s.search(authzen.SearchAction))
	r.POST("/v1/data/*path", s.authenticate, s.dataAPI)
	r.POST("/v1/filters/:id", s.authenticate, s.filter)
	r.POST("/v1/manifest", s.authenticate, s.manifest)
	if d.Admin != nil {
		d.Admin(r)
	}
	r.NoRoute(func(c *gin.Context) {
		writeError(c, verr.New(verr.NotFound, "", "no route %s %s", c.Request.Method, c.Request.URL.Path))
	})
	return r, nil
}

// requestID echoes X-Request-ID on every response when the request has one.
func requestID(c *gin.Context) {
	if id := c.GetHeader("X-Request-ID"); id != "" {
		c.Header("X-Request-ID", id)
	}
	c.Next()
}

func (s *Server) timeout(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), s.cfg.RequestTimeout)
	defer cancel()
	c.Request = c.Request.WithContext(ctx)
	c.Next()
}

// body reads a request body by the rules of every endpoint (frontdoor):
// JSON only, at most MaxBodyBytes.
func (s *Server) body(c *gin.Context) ([]byte, error) {
	return frontdoor.ReadBody(c.Writer, c.Request, s.cfg.MaxBodyBytes)
}

// orgBody reads a body that names its org in a top-level member (filters,
// manifests) into v, strictly, then gives *org the caller's or the server's
// default org when it is empty and checks tenancy: the same front door as
// the decision endpoints, which take their org from the request's context.
func (s *Server) orgBody(c *gin.Context, v any, org *string) error {
	raw, err := s.body(c)
	if err != nil {
		return err
	}
	if err := frontdoor.Unmarshal(raw, v); err != nil {
		return err
	}
	if *org == "" {
		*org = defaultOrg(c, s.PDP.DefaultOrg())
	}
	return checkOrg(c, "org", *org)
}

// writeError answers an error as JSON with the status that fits its code.
func writeError(c *gin.Context, err error) { frontdoor.Abort(c, err) }

// DecisionLogger receives every decision, under its decision id.
type DecisionLogger interface {
	Log(ctx context.Context, id, path string, req *authzen.Request, d decision.Decision, revision string)
}

var errBadToken = verr.New(verr.InvalidInput, "page.token", "not a token of this search")

// Package api serves Verdict over HTTP with Gin: the AuthZEN decision
// endpoints and the operational ones. Handlers hold no state of their own;
// everything they read (the decision service) is safe for concurrent use.
package api

import (
	"errors"
	"io"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/verdict-pdp/verdict/internal/authzen"
	"github.com/verdict-pdp/verdict/internal/pdp"
	"github.com/verdict-pdp/verdict/internal/verr"
)

// Config of the HTTP API.
type Config struct {
	// MaxBodyBytes bounds a request body (default 1 MiB).
	MaxBodyBytes int64
}

// Validate checks the configuration and fills defaults.
func (c *Config) Validate() error {
	if c.MaxBodyBytes == 0 {
		c.MaxBodyBytes = 1 << 20
	}
	if c.MaxBodyBytes < 0 {
		return verr.New(verr.InvalidInput, "max_body_bytes", "must be positive")
	}
	return nil
}

// Server is the HTTP API.
type Server struct {
	cfg Config
	pdp *pdp.Service
}

// New returns the API handler.
func New(cfg Config, svc *pdp.Service) (http.Handler, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, pdp: svc}
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.Use(gin.Recovery())
	r.GET("/health", func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"status": "ok"}) })
	r.POST("/access/v1/evaluation", s.evaluation)
	r.NoRoute(func(c *gin.Context) {
		writeError(c, verr.New(verr.NotFound, "", "no route %s %s", c.Request.Method, c.Request.URL.Path))
	})
	return r, nil
}

func (s *Server) evaluation(c *gin.Context) {
	body, err := s.body(c)
	if err != nil {
		writeError(c, err)
		return
	}
	req, err := authzen.ParseRequest(body)
	if err != nil {
		writeError(c, err)
		return
	}
	d, _ := s.pdp.Evaluate(c.Request.Context(), req)
	// A deny is an answer, not an error: errors while deciding come back as a
	// deny whose context says why (fail closed).
	c.JSON(http.StatusOK, d)
}

func (s *Server) body(c *gin.Context) ([]byte, error) {
	b, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, s.cfg.MaxBodyBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, verr.New(verr.InvalidInput, "", "request body larger than %d bytes", s.cfg.MaxBodyBytes)
		}
		return nil, verr.Wrap(verr.InvalidInput, "", err, "reading body: %v", err)
	}
	return b, nil
}

// writeError answers an error as JSON with the status that fits its code.
func writeError(c *gin.Context, err error) {
	e := verr.As(err)
	c.AbortWithStatusJSON(verr.HTTPStatus(e), gin.H{"error": e})
}

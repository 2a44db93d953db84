package client

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
)

// Config of a Client. The zero value of every field but BaseURL is a
// sensible default (Validate fills them in).
type Config struct {
	// BaseURL is the PDP's base URL: http://127.0.0.1:8181 (make run),
	// https://pdp.example.com. Required.
	BaseURL string
	// Timeout bounds one attempt of a call (default 10s); the caller's
	// context bounds the whole call, retries and waits included.
	Timeout time.Duration
	// Retries is how many times a call is tried again after a network
	// failure or an answer 429, 502, 503 or 504 (default 2; negative: never).
	// Every call of this client is a read, safe to repeat.
	Retries int
	// MinBackoff and MaxBackoff bound the wait before a retry (defaults
	// 50ms and 1s): exponential from MinBackoff, with full jitter, unless
	// the server says how long to wait (Retry-After).
	MinBackoff, MaxBackoff time.Duration
	// MaxRetryAfter is the longest Retry-After the client waits for
	// (default 10s); a server asking for longer gets its answer returned.
	MaxRetryAfter time.Duration
	// Tokens, when set, gives the caller's bearer token for every attempt
	// (a PDP with --auth oidc requires one). See StaticToken and OAuth2.
	Tokens TokenSource
	// TLS configures HTTPS: the CA to trust and, for mutual TLS, the
	// client's certificate. See TLSFiles. Ignored when HTTPClient is set.
	TLS *tls.Config
	// MaxConns bounds the connections to the PDP (default 64), and as many
	// are kept idle for reuse. Ignored when HTTPClient is set.
	MaxConns int
	// HTTPClient, when set, is used as is (its transport, TLS and
	// timeouts); Timeout still bounds each attempt.
	HTTPClient *http.Client
	// UserAgent is sent with every request (default "verdict-go-client").
	UserAgent string
}

// Validate checks the configuration and fills in the defaults.
func (c *Config) Validate() error {
	if c.BaseURL == "" {
		return errors.New("client: BaseURL is required (e.g. http://127.0.0.1:8181)")
	}
	u, err := url.Parse(c.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("client: BaseURL %q is not an http:// or https:// URL", c.BaseURL)
	}
	c.BaseURL = strings.TrimRight(c.BaseURL, "/")
	if c.Timeout < 0 || c.MinBackoff < 0 || c.MaxBackoff < 0 || c.MaxRetryAfter < 0 || c.MaxConns < 0 {
		return errors.New("client: Timeout, MinBackoff, MaxBackoff, MaxRetryAfter and MaxConns must not be negative")
	}
	if c.Timeout == 0 {
		c.Timeout = 10 * time.Second
	}
	if c.Retries == 0 {
		c.Retries = 2
	}
	if c.Retries < 0 {
		c.Retries = 0
	}
	if c.MinBackoff == 0 {
		c.MinBackoff = 50 * time.Millisecond
	}
	if c.MaxBackoff == 0 {
		c.MaxBackoff = time.Second
	}
	if c.MaxBackoff < c.MinBackoff {
		return errors.New("client: MaxBackoff must be at least MinBackoff")
	}
	if c.MaxRetryAfter == 0 {
		c.MaxRetryAfter = 10 * time.Second
	}
	if c.MaxConns == 0 {
		c.MaxConns = 64
	}
	if c.UserAgent == "" {
		c.UserAgent = "verdict-go-client"
	}
	if c.TLS != nil && u.Scheme != "https" {
		return fmt.Errorf("client: TLS is set but BaseURL %q is not https://", c.BaseURL)
	}
	return nil
}

// TLSFiles builds a TLS configuration from PEM files: caFile (the CA that
// signed the PDP's certificate; "" trusts the system's roots) and, for
// mutual TLS, the client's certificate and key (both or neither).
func TLSFiles(caFile, certFile, keyFile string) (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("client: CA file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("client: CA file %s holds no PEM certificate", caFile)
		}
		tc.RootCAs = pool
	}
	if (certFile == "") != (keyFile == "") {
		return nil, errors.New("client: the client certificate and its key go together")
	}
	if certFile != "" {
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return nil, fmt.Errorf("client: client certificate: %w", err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}

package client_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/verdict-pdp/verdict/client"
	"github.com/verdict-pdp/verdict/internal/cmd/serve"
)

// flaky is a real HTTP server in front of a PDP: it answers the first
// requests with the given failures, then proxies to the PDP.
type flaky struct {
	calls    atomic.Int32
	failures []func(w http.ResponseWriter, r *http.Request)
	proxy    http.Handler
}

func (f *flaky) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := int(f.calls.Add(1))
	if n <= len(f.failures) {
		f.failures[n-1](w, r)
		return
	}
	f.proxy.ServeHTTP(w, r)
}

func status(code int, retryAfter string) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, _ *http.Request) {
		if retryAfter != "" {
			w.Header().Set("Retry-After", retryAfter)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		_, _ = w.Write([]byte(`{"error": {"code": "unavailable", "message": "try again"}}`))
	}
}

// hangUp closes the connection without an answer: a network failure.
func hangUp(w http.ResponseWriter, _ *http.Request) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err == nil {
		_ = conn.Close()
	}
}

func startFlaky(t *testing.T, pdp string, failures ...func(http.ResponseWriter, *http.Request)) (*flaky, string) {
	u, err := url.Parse(pdp)
	if err != nil {
		t.Fatal(err)
	}
	f := &flaky{failures: failures, proxy: httputil.NewSingleHostReverseProxy(u)}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv.URL
}

// TestRetries: 503s (with and without Retry-After), 429 and dropped
// connections are tried again and the PDP's answer comes back; a refusal
// (400) is not; retries off returns the first failure, as an *Error; a
// Retry-After longer than the client will wait returns at once.
func TestRetries(t *testing.T) {
	pdp := startPDP(t, serve.Config{})
	ctx := ctx(t)
	fast := client.Config{MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond}
	with := func(base string, edit func(*client.Config)) *client.Client {
		cfg := fast
		cfg.BaseURL = base
		if edit != nil {
			edit(&cfg)
		}
		return newClient(t, cfg)
	}

	for name, failures := range map[string][]func(http.ResponseWriter, *http.Request){
		"503 twice":             {status(503, "0"), status(503, "")},
		"429 then 502":          {status(429, "0"), status(502, "")},
		"a dropped connection":  {hangUp},
		"504, a dropped, a 503": {status(504, ""), hangUp, status(503, "")},
	} {
		t.Run(name, func(t *testing.T) {
			f, base := startFlaky(t, pdp, failures...)
			retries := len(failures)
			d, err := with(base, func(c *client.Config) { c.Retries = retries }).Evaluate(ctx, mariaAccess)
			if err != nil || !d.Decision || d.Context["build"] != "m2" {
				t.Errorf("%+v %v", d, err)
			}
			if got := int(f.calls.Load()); got != len(failures)+1 {
				t.Errorf("%d requests, want %d", got, len(failures)+1)
			}
		})
	}
	t.Run("more failures than retries", func(t *testing.T) {
		f, base := startFlaky(t, pdp, status(503, ""), status(503, ""), status(503, ""))
		_, err := with(base, nil).Evaluate(ctx, mariaAccess) // 2 retries: 3 tries
		var e *client.Error
		if !errors.As(err, &e) || e.StatusCode != 503 || e.Code != client.CodeUnavailable || f.calls.Load() != 3 {
			t.Errorf("%#v after %d requests", err, f.calls.Load())
		}
	})
	t.Run("retries off", func(t *testing.T) {
		f, base := startFlaky(t, pdp, status(503, ""))
		_, err := with(base, func(c *client.Config) { c.Retries = -1 }).Evaluate(ctx, mariaAccess)
		if !client.IsCode(err, client.CodeUnavailable) || f.calls.Load() != 1 {
			t.Errorf("%v after %d requests", err, f.calls.Load())
		}
	})
	t.Run("a refusal is not retried", func(t *testing.T) {
		f, base := startFlaky(t, pdp)
		_, err := with(base, nil).Evaluate(ctx, client.EvaluationRequest{Subject: &client.Subject{Type: "user", ID: "u-maria"}})
		if !client.IsCode(err, client.CodeInvalidInput) || f.calls.Load() != 1 {
			t.Errorf("%v after %d requests", err, f.calls.Load())
		}
	})
	t.Run("Retry-After past MaxRetryAfter", func(t *testing.T) {
		f, base := startFlaky(t, pdp, status(503, "3600"))
		_, err := with(base, nil).Evaluate(ctx, mariaAccess)
		if !client.IsCode(err, client.CodeUnavailable) || f.calls.Load() != 1 {
			t.Errorf("%v after %d requests", err, f.calls.Load())
		}
	})
	t.Run("an answer that is not Verdict's error", func(t *testing.T) {
		_, base := startFlaky(t, pdp, func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "bad gateway from a proxy", 500) })
		_, err := with(base, nil).Evaluate(ctx, mariaAccess)
		var e *client.Error
		if !errors.As(err, &e) || e.StatusCode != 500 || e.Code != "" || e.Body != "bad gateway from a proxy" {
			t.Errorf("%#v", err)
		}
	})
}

package bundlecmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/verdict-pdp/verdict/internal/authn"
	"github.com/verdict-pdp/verdict/internal/bundle"
	"github.com/verdict-pdp/verdict/internal/cmd/cliflag"
	"github.com/verdict-pdp/verdict/internal/policyload"
	"github.com/verdict-pdp/verdict/internal/store"
)

// serveBundles is `verdict bundle serve`: the central PDP's bundle endpoint
// on its own (a distribution tier apart from the decision servers, or a
// central PDP that does not mount it), same URLs, same long polling.
func serveBundles(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c := cliflag.New("bundle serve", "--redis-url URL --signing-key KEY.pem [--addr ADDR] [flags]",
		`Serves GET /bundles/{org}/{env|all}.tar.gz from Redis, the central PDP's bundle endpoint on
its own (ETag, If-None-Match, long polling with Prefer: wait=N, rebuilt after writes): a
distribution tier apart from the decision servers. Callers sign in with OIDC unless
--auth=none is given explicitly.`,
		"verdict bundle serve --redis-url redis://127.0.0.1:6379 --signing-key keys/signing.pem --auth none",
		"verdict bundle serve --addr 0.0.0.0:8282 --oidc-issuer https://idp.example.com --oidc-audience verdict")
	addr := c.String("addr", "127.0.0.1:8282", "listen address `ADDR`")
	redisURL := c.String("redis-url", "", "Redis `URL`")
	c.Env("redis-url", "VERDICT_REDIS_URL")
	key := c.String("signing-key", "", "PEM private `KEY` bundles are signed with")
	c.Env("signing-key", "VERDICT_BUNDLE_SIGNING_KEY")
	auth := c.String("auth", "oidc", "caller sign-in: `oidc|none` (none must be given explicitly)")
	c.Env("auth", "VERDICT_AUTH")
	issuer := c.String("oidc-issuer", "", "OIDC issuer `URL`")
	c.Env("oidc-issuer", "VERDICT_OIDC_ISSUER")
	audience := c.String("oidc-audience", "", "OIDC `AUDIENCE`")
	c.Env("oidc-audience", "VERDICT_OIDC_AUDIENCE")
	var dirs multi
	c.Var(&dirs, "policy-dir", "extension policies under `DIR` to include (repeatable)")
	pos, code, ok := c.Parse(args, stdout, stderr)
	if !ok {
		return code
	}
	if len(pos) > 0 {
		return c.Fail(stderr, "unexpected argument %q", pos[0])
	}
	fail := func(code int, err error) int {
		fmt.Fprintf(stderr, "verdict bundle serve: %v\n", err)
		return code
	}
	if *redisURL == "" {
		return fail(2, errors.New("--redis-url is required"))
	}
	log := slog.New(slog.NewJSONHandler(stderr, nil))
	set, err := policyload.Load(dirs, false)
	if err != nil {
		return fail(2, err)
	}
	st, err := store.Open(store.Config{URL: *redisURL})
	if err != nil {
		return fail(2, err)
	}
	defer st.Close()
	var v *authn.Verifier
	switch *auth {
	case "oidc":
		if v, err = authn.New(ctx, authn.Config{IssuerURL: *issuer, Audience: *audience}); err != nil {
			return fail(2, err)
		}
	case "none":
		log.Warn("caller sign-in is OFF (--auth=none): anyone who reaches this port may download whole orgs")
	default:
		return fail(2, fmt.Errorf("--auth must be oidc or none, not %q", *auth))
	}
	h, err := bundle.Mount(ctx, http.NotFoundHandler(), bundle.MountConfig{Store: st,
		Policies:   func() bundle.Policies { return bundle.Policies{Modules: set.Modules, Data: set.Data} },
		SigningKey: *key, Verifier: v, Log: log})
	if err != nil {
		return fail(2, err)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fail(1, err)
	}
	// WriteTimeout stays above the longest long poll (45s).
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second, WriteTimeout: 60 * time.Second, IdleTimeout: 120 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	log.Info("verdict bundle serve", "addr", ln.Addr().String(), "signed", *key != "", "auth", *auth)
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fail(1, err)
	}
	return 0
}

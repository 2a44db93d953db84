package bundlecmd

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/verdict-pdp/verdict/internal/authn"
	"github.com/verdict-pdp/verdict/internal/bundle"
	"github.com/verdict-pdp/verdict/internal/policyload"
	"github.com/verdict-pdp/verdict/internal/store"
)

// serveBundles is `verdict bundle serve`: the central PDP's bundle endpoint
// on its own (a distribution tier apart from the decision servers, or a
// central PDP that does not mount it), same URLs, same long polling.
func serveBundles(ctx context.Context, args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("bundle serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8282", "listen address")
	redisURL := fs.String("redis-url", os.Getenv("VERDICT_REDIS_URL"), "Redis URL (env VERDICT_REDIS_URL)")
	key := fs.String("signing-key", os.Getenv("VERDICT_BUNDLE_SIGNING_KEY"), "PEM private key bundles are signed with (env VERDICT_BUNDLE_SIGNING_KEY)")
	auth := fs.String("auth", "oidc", "caller sign-in: oidc or none")
	issuer := fs.String("oidc-issuer", os.Getenv("VERDICT_OIDC_ISSUER"), "OIDC issuer URL")
	audience := fs.String("oidc-audience", os.Getenv("VERDICT_OIDC_AUDIENCE"), "OIDC audience")
	var dirs multi
	fs.Var(&dirs, "policy-dir", "extension policies to include (repeatable)")
	if err := fs.Parse(args); err != nil {
		return 2
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

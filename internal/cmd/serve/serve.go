// Package serve is `verdict serve`: the central PDP over HTTP.
//
// In this version facts come from org documents in memory; --dev serves the
// embedded demo organization. The Redis-backed store replaces the in-memory
// source in the store issue.
package serve

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

	"github.com/verdict-pdp/verdict/data"
	"github.com/verdict-pdp/verdict/internal/api"
	"github.com/verdict-pdp/verdict/internal/assemble"
	"github.com/verdict-pdp/verdict/internal/engine"
	"github.com/verdict-pdp/verdict/internal/orgdoc"
	"github.com/verdict-pdp/verdict/internal/pdp"
	"github.com/verdict-pdp/verdict/policies"
)

// Run runs the command.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8181", "listen address")
	dev := fs.Bool("dev", false, "development mode: serve the embedded demo organization, sign-in off")
	orgFile := fs.String("data", "", "serve the orgs of this corpus or org document file (in memory)")
	defaultOrg := fs.String("default-org", "", "org for requests without context.org (dev mode: demo)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	log := slog.New(slog.NewJSONHandler(stderr, nil))
	var orgs []orgdoc.Org
	switch {
	case *dev:
		c, err := orgdoc.DecodeCorpus(data.Demo())
		if err != nil {
			fmt.Fprintf(stderr, "verdict serve: demo data: %v\n", err)
			return 2
		}
		orgs = c.Orgs
		if *defaultOrg == "" {
			*defaultOrg = orgs[0].Org
		}
		log.Warn("DEVELOPMENT MODE: serving the embedded demo organization from memory, sign-in is OFF; never run this in production",
			"org", *defaultOrg)
	case *orgFile != "":
		b, err := os.ReadFile(*orgFile)
		if err != nil {
			fmt.Fprintf(stderr, "verdict serve: %v\n", err)
			return 2
		}
		c, err := orgdoc.DecodeCorpus(b)
		if err != nil {
			fmt.Fprintf(stderr, "verdict serve: %s: %v\n", *orgFile, err)
			return 2
		}
		orgs = c.Orgs
	default:
		fmt.Fprintln(stderr, "verdict serve: give --dev or --data FILE (the Redis store is not in this build yet)")
		return 2
	}
	mods, err := policies.Builtin()
	if err != nil {
		fmt.Fprintf(stderr, "verdict serve: %v\n", err)
		return 2
	}
	eng, err := engine.New(ctx, engine.Config{Modules: mods})
	if err != nil {
		fmt.Fprintf(stderr, "verdict serve: %v\n", err)
		return 2
	}
	svc, err := pdp.New(pdp.Config{DefaultOrg: *defaultOrg}, eng, assemble.NewDocSource(orgs))
	if err != nil {
		fmt.Fprintf(stderr, "verdict serve: %v\n", err)
		return 2
	}
	h, err := api.New(api.Config{}, svc)
	if err != nil {
		fmt.Fprintf(stderr, "verdict serve: %v\n", err)
		return 2
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintf(stderr, "verdict serve: %v\n", err)
		return 2
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second}
	log.Info("verdict serving", "addr", ln.Addr().String(), "policy_revision", eng.Revision())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			fmt.Fprintf(stderr, "verdict serve: %v\n", err)
			return 1
		}
	case <-ctx.Done():
		log.Info("shutting down")
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}
	return 0
}

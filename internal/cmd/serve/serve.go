// Package serve is `verdict serve`: the central PDP over HTTP, deciding from
// facts in Redis (an embedded Redis-protocol store in --dev mode).
package serve

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/gin-gonic/gin"
	"github.com/redis/go-redis/v9"

	"github.com/verdict-pdp/verdict/data"
	"github.com/verdict-pdp/verdict/internal/api"
	"github.com/verdict-pdp/verdict/internal/authn"
	"github.com/verdict-pdp/verdict/internal/bundle"
	"github.com/verdict-pdp/verdict/internal/decisionlog"
	"github.com/verdict-pdp/verdict/internal/engine"
	"github.com/verdict-pdp/verdict/internal/facts"
	"github.com/verdict-pdp/verdict/internal/limits"
	"github.com/verdict-pdp/verdict/internal/openapi"
	"github.com/verdict-pdp/verdict/internal/orgdoc"
	"github.com/verdict-pdp/verdict/internal/pdp"
	"github.com/verdict-pdp/verdict/internal/policyload"
	"github.com/verdict-pdp/verdict/internal/store"
	"github.com/verdict-pdp/verdict/internal/tlsconf"
	"github.com/verdict-pdp/verdict/internal/tracing"
)

// Run runs the command.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cfg, code, ok := load(args, stdout, stderr)
	if !ok {
		return code
	}
	log := slog.New(slog.NewJSONHandler(stderr, nil))
	// Process-wide, so here and not in Start (tests start several servers).
	tuneGC(cfg.MemoryLimitMiB, log)
	redis.SetLogger(redisLogger{log})
	srv, err := Start(ctx, cfg, log, stdout)
	if err != nil {
		fmt.Fprintf(stderr, "verdict serve: %v\n", err)
		return 1
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for {
		select {
		case <-hup:
			_ = srv.Reload(ctx)
			continue
		case <-ctx.Done():
		}
		break
	}
	log.Info("shutting down")
	srv.Close()
	return 0
}

// Server is a running PDP.
type Server struct {
	Addr   string // the address it listens on
	reload func(context.Context) error
	http   *http.Server
	stop   context.CancelFunc
	close  []func()
	closed sync.Once
	// routes are every route the server answers (routes.go).
	routes gin.RoutesInfo
}

// Reload reads the policy folders again and swaps the policies in; a set
// that fails to load or compile is refused and the running one stays.
func (s *Server) Reload(ctx context.Context) error { return s.reload(ctx) }

// Close shuts the server down gracefully (in-flight requests finish, then
// pending last_seen sightings are written). Calling it again does nothing.
func (s *Server) Close() {
	s.closed.Do(func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = s.http.Shutdown(sctx)
		s.stop()
		s.runClose()
	})
}

// Start starts a PDP as configured and returns once it listens.
func Start(parent context.Context, cfg *Config, log *slog.Logger, stdout io.Writer) (*Server, error) {
	if err := cfg.validateLimits(); err != nil { // a Config not from load: the bounds' defaults
		return nil, err
	}
	ctx, stop := context.WithCancel(parent)
	s := &Server{stop: stop}
	fail := func(err error) (*Server, error) { s.stop(); s.runClose(); return nil, err }

	// Tracing first, so that its exporter is flushed last, after the
	// server's last request (close runs in reverse).
	tr, err := tracing.Start(ctx, cfg.tracing())
	if err != nil {
		return fail(err)
	}
	s.close = append(s.close, func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := tr.Shutdown(sctx); err != nil {
			log.Warn("flushing the last traces failed", "err", err)
		}
	})
	var rdb redis.UniversalClient
	if cfg.Dev {
		mr := miniredis.NewMiniRedis()
		if err := mr.StartAddr("127.0.0.1:0"); err != nil {
			return fail(err)
		}
		s.close = append(s.close, mr.Close)
		opt := &redis.Options{Addr: mr.Addr()}
		boundClient(opt, cfg.RedisPoolSize)
		rdb = redis.NewClient(opt)
		log.Warn("DEVELOPMENT MODE: facts live in an EMBEDDED in-memory Redis-protocol store (miniredis), seeded with the demo org and lost on exit; caller sign-in is OFF. Never run this in production.",
			"embedded_store", mr.Addr())
	} else {
		if rdb, err = newRedisClient(cfg); err != nil {
			return fail(err)
		}
	}
	s.close = append(s.close, func() { _ = rdb.Close() })
	st, err := store.New(rdb, store.Config{})
	if err != nil {
		return fail(err)
	}
	devAdmin := ""
	if cfg.Dev {
		c, err := orgdoc.DecodeCorpus(data.Demo())
		if err != nil {
			return fail(err)
		}
		for i := range c.Orgs {
			if _, err := st.PutOrg(ctx, &c.Orgs[i], -1, store.Actor{Subject: "verdict --dev"}); err != nil {
				return fail(err)
			}
		}
		if cfg.DefaultOrg == "" {
			cfg.DefaultOrg = c.Orgs[0].Org
		}
		devAdmin = orgAdmin(&c.Orgs[0])
	}
	set, err := policyload.Load(cfg.PolicyDirs, false)
	if err != nil {
		return fail(err)
	}
	eng, err := engine.New(ctx, engine.Config{Modules: set.Modules, Data: set.Data, DataPathsMax: cfg.DataPathsMax})
	if err != nil {
		return fail(err)
	}
	if len(set.Extension) > 0 {
		log.Info("extension policies loaded", "files", set.Extension)
	}
	var extData atomic.Pointer[map[string]any]
	extData.Store(&set.Data)
	s.reload = func(ctx context.Context) error {
		next, err := policyload.Load(cfg.PolicyDirs, false)
		if err == nil {
			err = eng.LoadWithData(ctx, next.Modules, next.Data)
		}
		if err == nil {
			extData.Store(&next.Data) // bundles built from now on carry the new extension data
		}
		if err != nil {
			log.Error("policy reload refused: the running policies stay", "err", err)
			return err
		}
		log.Info("policies reloaded", "policy_revision", eng.Revision())
		return nil
	}
	// The facts path: one reader, one cache, one change feed for the
	// process, whatever the number of orgs (docs/consistency.md).
	central, err := facts.Open(ctx, rdb, facts.Config{
		Reader: facts.ReaderConfig{Prefix: st.OrgPrefix},
		Cache:  facts.CacheConfig{MaxAge: cfg.CacheMaxAge, MaxEntries: cfg.FactsCache, StaleMax: cfg.StaleFactsMax},
		Feed:   facts.FeedConfig{Channel: st.ChangesChannel(), Log: log},
	})
	if err != nil {
		return fail(err)
	}
	seen := store.NewLastSeen(st, 0, log)
	s.close = append(s.close, seen.Close)
	svc, err := pdp.New(pdp.Config{DefaultOrg: cfg.DefaultOrg, DecisionCache: cfg.DecisionCache, Users: st, Seen: seen.Seen}, eng, central)
	if err != nil {
		return fail(err)
	}
	var verifier *authn.Verifier
	if cfg.Auth == "oidc" {
		verifier, err = authn.New(ctx, authn.Config{IssuerURL: cfg.OIDCIssuer, Audience: cfg.OIDCAudience})
		if err != nil {
			return fail(err)
		}
	} else {
		log.Warn("caller sign-in is OFF (--auth=none): anyone who reaches this port may ask and administer")
	}
	deps := api.Deps{
		PDP: svc, Verifier: verifier, Metrics: api.NewMetrics(central.Cache), Log: log,
		ReadyChecks: map[string]func(context.Context) error{"redis": st.Ping},
		OpenAPI:     openapi.Central(),
		Tracing:     tr,
	}
	deps.Admin = adminRoutes(st, svc, verifier, cfg, central.Invalidate)
	if cfg.DecisionLog != "" {
		var w io.Writer = stdout
		if cfg.DecisionLog != "-" {
			f, err := os.OpenFile(cfg.DecisionLog, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o640)
			if err != nil {
				return fail(err)
			}
			w = f
		}
		dl := decisionlog.New(w, map[string]string{"app": "verdict"})
		deps.Decisions = dl
		s.close = append(s.close, func() { _ = dl.Close() })
	}
	h, err := api.New(api.Config{MaxBodyBytes: cfg.MaxBodyBytes, RequestTimeout: cfg.RequestTimeout, ReadyTimeout: cfg.ReadyTimeout}, deps)
	if err != nil {
		return fail(err)
	}
	s.routes = api.Routes(h)
	var consoleRoutes gin.RoutesInfo
	if h, consoleRoutes, err = withConsole(h, cfg, st, svc, central.Invalidate, devAdmin, log); err != nil {
		return fail(err)
	}
	s.routes = append(s.routes, consoleRoutes...)
	// Signed bundles for edge PDPs, rebuilt after writes (docs/bundles.md).
	if h, err = bundle.Mount(ctx, h, bundle.MountConfig{Store: st, Feed: central.Feed, SigningKey: cfg.BundleSigningKey, Verifier: verifier, Log: log,
		Policies: func() bundle.Policies { return bundle.Policies{Modules: eng.Modules(), Data: *extData.Load()} }}); err != nil {
		return fail(err)
	}
	s.routes = append(s.routes, bundleRoutes()...)
	// A request past --max-requests costs no work of any part but its
	// access-log line (docs/limits.md).
	lim, err := limits.New(limits.Config{MaxRequests: cfg.MaxRequests, MaxLongPolls: cfg.MaxLongPolls, Registry: deps.Metrics.Registry()})
	if err != nil {
		return fail(err)
	}
	h = lim.Wrap(h)
	// Outermost: every request, console and bundles included, is traced
	// and logged once.
	if h, err = api.Observe(h, api.ObserveConfig{AccessLog: cfg.AccessLog, Log: log, Tracing: tr}); err != nil {
		return fail(err)
	}
	if cfg.DebugAddr != "" {
		stop, err := debugServer(cfg.DebugAddr, log)
		if err != nil {
			return fail(err)
		}
		s.close = append(s.close, stop)
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fail(err)
	}
	s.Addr = ln.Addr().String()
	s.http = &http.Server{Handler: h, ReadHeaderTimeout: cfg.ReadHeaderTimeout, ReadTimeout: cfg.ReadTimeout,
		WriteTimeout: cfg.WriteTimeout, IdleTimeout: cfg.IdleTimeout}
	if cfg.TLSCert != "" {
		tc, err := tlsconf.Server(cfg.TLSCert, cfg.TLSKey, cfg.TLSClientCA)
		if err != nil {
			_ = ln.Close()
			return fail(err)
		}
		s.http.TLSConfig = tc
		ln = tls.NewListener(ln, tc)
	}
	go func() {
		if err := s.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("server stopped", "err", err)
		}
	}()
	log.Info("verdict serving", "addr", s.Addr, "tls", cfg.TLSCert != "", "auth", cfg.Auth,
		"default_org", cfg.DefaultOrg, "policy_revision", eng.Revision(), "access_log", cfg.AccessLog, "tracing", tr.Enabled())
	return s, nil
}

func (s *Server) runClose() {
	for i := len(s.close) - 1; i >= 0; i-- {
		s.close[i]()
	}
	s.close = nil
}

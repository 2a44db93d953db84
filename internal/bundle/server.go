package bundle

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/verdict-pdp/verdict/internal/authn"
	"github.com/verdict-pdp/verdict/internal/facts"
	"github.com/verdict-pdp/verdict/internal/frontdoor"
	"github.com/verdict-pdp/verdict/internal/limits"
	"github.com/verdict-pdp/verdict/internal/orgdoc"
	"github.com/verdict-pdp/verdict/internal/store"
	"github.com/verdict-pdp/verdict/internal/verr"
)

// ContentType is what bundles are served as. OPA's downloader keeps long
// polling on only while the server answers with it.
const ContentType = "application/vnd.openpolicyagent.bundles"

// ServerConfig configures bundle serving on the central PDP.
type ServerConfig struct {
	Store *store.Store
	// Feed is the process's change feed; the server listens to it. nil: the
	// server starts a feed of its own on the store's client (tests, tools).
	Feed     interface{ Listen(facts.Listener) }
	Policies Policies
	// PolicySource, when set, is asked for the policies at every build
	// instead of Policies: a PDP that reloads its policies (SIGHUP) passes
	// its current set. A change is noticed within 5 seconds and rebuilds
	// every bundle.
	PolicySource func() Policies
	// Signer signs every bundle served; nil serves unsigned bundles, which
	// edges refuse (useful only to inspect them).
	Signer *Signer
	// Verifier authenticates callers like every other API caller; a caller
	// gets only its own org's bundles. nil: sign-in off, anyone may fetch.
	Verifier *authn.Verifier
	Log      *slog.Logger
	// Debounce is how long a burst of writes may go on before the bundle is
	// rebuilt (default 200ms); a rebuild waits at most 5 times that.
	Debounce time.Duration
	// MaxWait caps a long poll (Prefer: wait=N; default 45s). A waiting
	// long poll's write deadline is moved past its wait (WriteMargin).
	MaxWait time.Duration
}

// Server serves GET /bundles/{org}/{env|all}.tar.gz. Bundles are built on
// first request, kept in memory and rebuilt after the org's writes (its
// change feed, debounced); long polls wait on the rebuild.
//
// Concurrency: the server is safe for concurrent use. Each org has one
// follower goroutine (started with its first bundle, stopped with ctx),
// woken by the process's one change feed, and one build at a time; requests read immutable slots under a short lock.
type Server struct {
	cfg ServerConfig
	ctx context.Context
	// feedBlock is how long a follower waits on the change feed before it
	// looks at the policies again (5s; shorter in tests).
	feedBlock time.Duration

	mu   sync.Mutex
	orgs map[string]*orgState
}

// orgState is what the server holds for one org.
type orgState struct {
	build sync.Mutex // one build of this org at a time

	mu    sync.Mutex // guards the fields below; never held while building
	doc   *orgdoc.Org
	rev   int64
	slots map[string]*slot // environment (or "all") -> current bundle
	kick  chan struct{}    // a change of the org (buffered 1)
}

// slot is one built bundle; changed is closed when a newer one replaces it.
type slot struct {
	built   *Built
	changed chan struct{}
}

// NewServer returns a bundle server; its followers stop when ctx ends.
func NewServer(ctx context.Context, cfg ServerConfig) (*Server, error) {
	if cfg.Store == nil {
		return nil, verr.New(verr.InvalidInput, "store", "required")
	}
	if cfg.PolicySource == nil {
		static := cfg.Policies
		cfg.PolicySource = func() Policies { return static }
	}
	if len(cfg.PolicySource().Modules) == 0 {
		return nil, verr.New(verr.InvalidInput, "policies", "required")
	}
	if cfg.Debounce <= 0 {
		cfg.Debounce = 200 * time.Millisecond
	}
	if cfg.MaxWait <= 0 {
		cfg.MaxWait = 45 * time.Second
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.Signer == nil {
		cfg.Log.Warn("bundles are served UNSIGNED: edges refuse them; give the central PDP a signing key")
	}
	s := &Server{cfg: cfg, ctx: ctx, feedBlock: 5 * time.Second, orgs: map[string]*orgState{}}
	if cfg.Feed == nil {
		f, err := facts.NewFeed(cfg.Store.Client(), facts.FeedConfig{Channel: cfg.Store.ChangesChannel(), Log: cfg.Log})
		if err != nil {
			return nil, err
		}
		go f.Run(ctx)
		cfg.Feed = f
	}
	cfg.Feed.Listen(s)
	return s, nil
}

// Wrap returns a handler serving /bundles/ itself and everything else with
// next: how the central PDP mounts bundle serving beside its API.
func (s *Server) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/bundles/") {
			s.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// Route is the path bundlePath matches, in Gin's syntax, for listings of a
// server's routes (GET and HEAD; internal/openapi's route test).
const Route = "/bundles/:org/:bundle.tar.gz"

var (
	// The org is checked by the one org id rule (frontdoor.CheckOrgID).
	bundlePath = regexp.MustCompile(`^/bundles/([^/]+)/([A-Za-z0-9_-]{1,64})\.tar\.gz$`)
	waitPref   = regexp.MustCompile(`(?:^|[;,\s])wait=(\d+)`)
)

// ServeHTTP answers one bundle request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		frontdoor.WriteError(w, verr.New(verr.MethodNotAllowed, "", "method %s not allowed", r.Method))
		return
	}
	m := bundlePath.FindStringSubmatch(r.URL.Path)
	if m == nil {
		frontdoor.WriteError(w, verr.New(verr.NotFound, "", "no bundle at %s: want /bundles/{org}/{environment|all}.tar.gz", r.URL.Path))
		return
	}
	org, env := m[1], m[2]
	if err := frontdoor.CheckOrgID("org", org); err != nil {
		frontdoor.WriteError(w, err)
		return
	}
	if err := s.authorize(r, org); err != nil {
		frontdoor.WriteError(w, err)
		return
	}
	sl, err := s.current(r.Context(), org, env)
	if err != nil {
		frontdoor.WriteError(w, err)
		return
	}
	inm := r.Header.Get("If-None-Match")
	if matches(inm, sl.built.ETag) {
		if wait := s.wait(r); wait > 0 {
			// A waiting long poll holds a long-poll slot, not a request
			// slot (--max-long-polls, package limits); past the bound it is
			// refused 503 with Retry-After.
			done, ok := limits.LongPoll(w, r)
			if !ok {
				return
			}
			s.extendWriteDeadline(w, wait)
			t := time.NewTimer(wait)
			select {
			case <-sl.changed:
			case <-t.C:
			case <-r.Context().Done():
			case <-s.ctx.Done():
			}
			t.Stop()
			done()
			if sl, err = s.current(r.Context(), org, env); err != nil {
				frontdoor.WriteError(w, err)
				return
			}
		}
	}
	h := w.Header()
	h.Set("Content-Type", ContentType)
	h.Set("ETag", sl.built.ETag)
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Verdict-Revision", sl.built.Revision)
	if matches(inm, sl.built.ETag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Length", strconv.Itoa(len(sl.built.Bytes)))
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodGet {
		_, _ = w.Write(sl.built.Bytes)
	}
}

// WriteMargin is the time a long poll has to write its answer once its
// wait is over: its write deadline is moved to the end of the wait plus this,
// so that the server's --write-timeout (meant for ordinary requests) never
// cuts a long poll that the client asked to be held longer.
const WriteMargin = 60 * time.Second

func (s *Server) extendWriteDeadline(w http.ResponseWriter, wait time.Duration) {
	err := http.NewResponseController(w).SetWriteDeadline(time.Now().Add(wait + WriteMargin))
	if err != nil && !errors.Is(err, http.ErrNotSupported) {
		s.cfg.Log.Warn("bundles: cannot extend a long poll's write deadline", "err", err)
	}
}

// authorize lets a caller fetch its own org's bundles only: a bundle holds
// the whole org, users and all.
func (s *Server) authorize(r *http.Request, org string) error {
	if s.cfg.Verifier == nil {
		return nil
	}
	id, err := s.cfg.Verifier.FromRequest(r)
	if err != nil {
		return err
	}
	return frontdoor.Tenancy(id, org, "org")
}

// wait is the long-poll time the client asked for (Prefer: wait=N), capped.
func (s *Server) wait(r *http.Request) time.Duration {
	m := waitPref.FindStringSubmatch(r.Header.Get("Prefer"))
	if m == nil {
		return 0
	}
	n, err := strconv.Atoi(m[1])
	if err != nil || n <= 0 {
		return 0
	}
	return min(time.Duration(n)*time.Second, s.cfg.MaxWait)
}

// matches reports whether an If-None-Match list names etag (OPA sends the
// current tag and, for a while, superseded ones, comma-separated).
func matches(inm, etag string) bool {
	for _, t := range strings.Split(inm, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == etag || t == "*" {
			return true
		}
	}
	return false
}

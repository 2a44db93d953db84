package edge

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	opabundle "github.com/open-policy-agent/opa/v1/bundle"
	"github.com/open-policy-agent/opa/v1/plugins"
	bundleplugin "github.com/open-policy-agent/opa/v1/plugins/bundle"
	"github.com/open-policy-agent/opa/v1/sdk"
	"github.com/open-policy-agent/opa/v1/storage"
	"github.com/open-policy-agent/opa/v1/storage/inmem"
	"github.com/verdict-pdp/verdict/internal/bundle"
	"github.com/verdict-pdp/verdict/internal/verr"
)

// Edge is a running edge PDP.
type Edge struct {
	cfg     Config
	srcs    []source
	opa     *sdk.OPA
	mgr     *plugins.Manager
	view    atomic.Pointer[view]
	cancel  context.CancelFunc
	done    chan struct{}
	refresh sync.Mutex // one view refresh at a time
	paths   atomic.Pointer[dataPaths]

	mu     sync.Mutex
	errors map[string]string // bundle name -> last download/activation error
}

// view is what the edge decides with, read from OPA's store after every
// activation: which org each active bundle holds.
type view struct {
	byOrg    map[string]live
	fallback string // an org whose policies answer requests for unknown orgs
	revision string
}

// live is one activated bundle.
type live struct {
	Name, Org, Env, Revision string
}

// Start starts an edge: OPA's bundle plugin loads the persisted bundles (if
// any) at once, then downloads or reads every source in the background.
// Start does not wait for the control plane; Ready says when every bundle
// is active.
func Start(ctx context.Context, cfg Config) (*Edge, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	srcs, err := sources(cfg.Bundles)
	if err != nil {
		return nil, err
	}
	conf, err := opaConfig(&cfg, srcs)
	if err != nil {
		return nil, err
	}
	if cfg.DataDir != "" {
		if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
			return nil, verr.Wrap(verr.InvalidInput, "data-dir", err, "%v", err)
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	e := &Edge{cfg: cfg, srcs: srcs, cancel: cancel, done: make(chan struct{}), errors: map[string]string{}}
	e.view.Store(&view{byOrg: map[string]live{}})
	logger := newOPALogger(cfg.Log)
	opa, err := sdk.New(ctx, sdk.Options{
		ID:     "verdict-edge",
		Config: bytes.NewReader(conf),
		// Given a Ready channel, New does not block until every bundle is
		// active: an edge must start (and answer /ready 503) while the
		// control plane is away.
		Ready:         make(chan struct{}),
		Store:         inmem.NewWithOpts(inmem.OptReturnASTValuesOnRead(true)),
		Logger:        logger,
		ConsoleLogger: logger,
		ManagerOpts:   []func(*plugins.Manager){func(m *plugins.Manager) { e.mgr = m }},
	})
	if err != nil {
		cancel()
		return nil, verr.Wrap(verr.InvalidInput, "bundle", err, "starting OPA: %v", err)
	}
	e.opa = opa
	if p := bundleplugin.Lookup(e.mgr); p != nil {
		p.RegisterBulkListener("verdict-edge", e.onStatus)
	}
	e.update(ctx)
	go e.pollFiles(ctx)
	return e, nil
}

// Close stops the edge.
func (e *Edge) Close() {
	e.cancel()
	<-e.done
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	e.opa.Stop(ctx)
}

// onStatus learns of every download and activation (OPA calls it with the
// bundle plugin's lock held: it must not call back into the plugin).
func (e *Edge) onStatus(status map[string]*bundleplugin.Status) {
	e.mu.Lock()
	for name, st := range status {
		msg := st.Message
		if msg == "" && len(st.Errors) > 0 {
			msg = st.Errors[0].Error()
		}
		if prev := e.errors[name]; msg != "" && msg != prev {
			if st.ActiveRevision != "" {
				e.cfg.Log.Warn("bundle refused or unreachable; the active one keeps serving",
					"bundle", name, "active_revision", st.ActiveRevision, "error", msg)
			} else {
				e.cfg.Log.Warn("bundle refused or unreachable; nothing active for it yet", "bundle", name, "error", msg)
			}
		}
		e.errors[name] = msg
	}
	e.mu.Unlock()
	go e.update(context.Background())
}

// update reads the activated bundles from OPA's store into a new view.
func (e *Edge) update(ctx context.Context) {
	e.refresh.Lock()
	defer e.refresh.Unlock()
	v := &view{byOrg: map[string]live{}}
	_ = storage.Txn(ctx, e.mgr.Store, storage.TransactionParams{}, func(txn storage.Transaction) error {
		names, err := opabundle.ReadBundleNamesFromStore(ctx, e.mgr.Store, txn)
		if err != nil {
			return nil // nothing activated yet
		}
		for _, name := range names {
			rev, _ := opabundle.ReadBundleRevisionFromStore(ctx, e.mgr.Store, txn, name)
			md, _ := opabundle.ReadBundleMetadataFromStore(ctx, e.mgr.Store, txn, name)
			m, ok := bundle.MetaOf(md)
			if !ok {
				continue // not a Verdict bundle: decisions never route to it
			}
			v.byOrg[m.Org] = live{Name: name, Org: m.Org, Env: m.Environment, Revision: rev}
		}
		return nil
	})
	orgs := make([]string, 0, len(v.byOrg))
	for org := range v.byOrg {
		orgs = append(orgs, org)
	}
	sort.Strings(orgs)
	parts := make([]string, len(orgs))
	for i, org := range orgs {
		parts[i] = org + "@" + v.byOrg[org].Revision
	}
	if len(orgs) > 0 {
		v.fallback = orgs[0]
	}
	v.revision = strings.Join(parts, " ")
	if old := e.view.Load(); old.revision != v.revision {
		e.cfg.Log.Info("edge bundles active", "revisions", v.revision)
	}
	e.view.Store(v)
}

// Revision names the live bundles: "org@revision" for each, by org.
func (e *Edge) Revision() string { return e.view.Load().revision }

// Ready answers nil once every configured bundle is active (from the
// control plane, a file or the data dir); else it names what is missing.
func (e *Edge) Ready(ctx context.Context) error {
	e.update(ctx)
	active := map[string]bool{}
	for _, l := range e.view.Load().byOrg {
		active[l.Name] = true
	}
	var missing []string
	e.mu.Lock()
	for _, s := range e.srcs {
		if !active[s.Name] {
			m := s.Location
			if msg := e.errors[s.Name]; msg != "" {
				m += " (" + msg + ")"
			}
			missing = append(missing, m)
		}
	}
	e.mu.Unlock()
	if len(missing) > 0 {
		return verr.New(verr.Unavailable, "", "bundles not active yet: %s", strings.Join(missing, "; "))
	}
	return nil
}

// Active lists the live bundles by org.
func (e *Edge) Active() map[string]live {
	out := map[string]live{}
	for k, v := range e.view.Load().byOrg {
		out[k] = v
	}
	return out
}

// pollFiles reads file bundles again when they change on disk: OPA reads a
// file bundle once.
func (e *Edge) pollFiles(ctx context.Context) {
	defer close(e.done)
	mtimes := map[string]time.Time{}
	for _, s := range e.srcs {
		if s.File != "" {
			if fi, err := os.Stat(s.File); err == nil {
				mtimes[s.Name] = fi.ModTime()
			}
		}
	}
	if len(mtimes) == 0 && !hasFiles(e.srcs) {
		<-ctx.Done()
		return
	}
	t := time.NewTicker(e.cfg.FilePoll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		p := bundleplugin.Lookup(e.mgr)
		if p == nil {
			continue
		}
		loaders := p.Loaders()
		for _, s := range e.srcs {
			if s.File == "" {
				continue
			}
			fi, err := os.Stat(s.File)
			if err != nil || fi.ModTime().Equal(mtimes[s.Name]) {
				continue
			}
			mtimes[s.Name] = fi.ModTime()
			if l, ok := loaders[s.Name]; ok {
				// A refused file is logged (and kept in Ready's report) by
				// onStatus; the active bundle stays.
				_ = l.Trigger(ctx)
			}
		}
	}
}

func hasFiles(srcs []source) bool {
	for _, s := range srcs {
		if s.File != "" {
			return true
		}
	}
	return false
}

func (l live) String() string { return fmt.Sprintf("%s@%s", l.Org, l.Revision) }

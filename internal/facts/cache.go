package facts

import (
	"context"

	"sync"
	"sync/atomic"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/verdict-pdp/verdict/internal/verr"
)

// DefaultStaleMax is how long cached facts may answer while Redis cannot be
// reached, unless configured otherwise (docs/consistency.md defends it).
const DefaultStaleMax = 15 * time.Second

// CacheConfig configures a Cache.
type CacheConfig struct {
	// MaxEntries bounds the cache (default 1000: a few KiB of AST each);
	// past it one entry at random makes room. Every cached entry is live heap
	// that the garbage collector marks on every cycle: size it to the
	// subjects at work within a few seconds, not to the org.
	MaxEntries int
	// MaxAge is how long an entry is trusted without hearing from the feed
	// about its org, while the feed is up (default 60s): a safety net should
	// a notification be lost without the connection breaking.
	MaxAge time.Duration
	// StaleMax bounds how old cached facts may be when they answer while the
	// store cannot be reached (0: never; fail closed at once). Such answers
	// say so (Facts.Stale). Negative is refused.
	StaleMax time.Duration
	// ProbeTimeout bounds the revision check of an org made before cached
	// facts answer while the feed is down (default 50ms).
	ProbeTimeout time.Duration
}

// Validate fills defaults and reports every problem.
func (c *CacheConfig) Validate() error {
	var errs []error
	if c.MaxEntries < 0 {
		errs = append(errs, verr.New(verr.InvalidInput, "facts-cache", "must not be negative"))
	}
	if c.MaxAge < 0 {
		errs = append(errs, verr.New(verr.InvalidInput, "cache-max-age", "must not be negative"))
	}
	if c.StaleMax < 0 {
		errs = append(errs, verr.New(verr.InvalidInput, "stale-facts-max", "must not be negative (0 fails closed at once)"))
	}
	if c.ProbeTimeout < 0 {
		errs = append(errs, verr.New(verr.InvalidInput, "probe-timeout", "must not be negative"))
	}
	if c.MaxEntries == 0 {
		c.MaxEntries = 1000
	}
	if c.MaxAge == 0 {
		c.MaxAge = 60 * time.Second
	}
	if c.ProbeTimeout == 0 {
		c.ProbeTimeout = 50 * time.Millisecond
	}
	return joinErrors(errs)
}

// Stamper reads what identifies an org's state now: its revision and the id
// of its last change (the Reader).
type Stamper interface {
	Stamp(ctx context.Context, org string) (int64, string, error)
}

// Health says whether the change feed is connected, so that cached facts are
// current, and when it was last heard from (the Feed).
type Health interface {
	Healthy() bool
	LastAlive() time.Time
}

// Cache is the central PDP's Source: a Reader's facts, kept per Scope and
// invalidated per org.
//
// Every org the cache holds has a version, drawn from one counter that never
// repeats; an entry answers only while its version is its org's. A
// notification of the org's change (the Feed), an acknowledged write of this
// PDP (Invalidate) or a revision check that finds the org moved gives the org
// a new version: its entries are never served again. A read that was in
// flight when the version moved is answered but not kept. The entries of an
// org all hold one revision of it: a read that returns a newer one moves the
// version first.
//
// While the feed is down, an entry answers only after a revision check of its
// org (bounded by ProbeTimeout) says it is current; when that check cannot
// reach Redis, it answers only within StaleMax of when it was last known
// current, and says so. Requests carrying a verified token are not cached.
//
// Memory is bounded by MaxEntries; org states exist only for orgs with
// entries or reads in flight. A Cache is safe for concurrent use.
type Cache struct {
	cfg    CacheConfig
	src    Source
	stamps Stamper
	health Health

	mu      sync.RWMutex
	entries map[Scope]*entry
	orgs    map[string]*orgState

	versions atomic.Uint64

	hits, misses, stale, probes, refused atomic.Uint64
}

type entry struct {
	f  Facts
	at time.Time // when read from the store (f.Read)
}

type orgState struct {
	version uint64
	// rev and change are the state of the org that every entry kept at
	// version revAt holds; they say nothing once the version moved past
	// revAt (after a data loss the next revisions may well be lower).
	rev      int64
	change   string
	revAt    uint64
	entries  int // entries of this org, any version
	inflight int // reads in flight
}

// NewCache returns a Cache over src (reads), stamps (revision checks) and
// health (the feed).
func NewCache(cfg CacheConfig, src Source, stamps Stamper, health Health) (*Cache, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Cache{cfg: cfg, src: src, stamps: stamps, health: health, entries: map[Scope]*entry{}, orgs: map[string]*orgState{}}, nil
}

// Facts implements Source.
func (c *Cache) Facts(ctx context.Context, s Scope) (Facts, error) {
	if err := s.Validate(); err != nil {
		return Facts{}, err
	}
	if s.Token != nil {
		c.misses.Add(1)
		return c.src.Facts(ctx, s)
	}
	key := s.key()
	c.mu.RLock()
	e, o := c.entries[key], c.orgs[s.Org]
	valid := e != nil && o != nil && e.f.Version == o.version
	c.mu.RUnlock()
	healthy := c.health.Healthy()
	if valid && healthy && time.Since(e.at) < c.cfg.MaxAge {
		c.hits.Add(1)
		f := e.f
		f.Hit = true
		return f, nil
	}
	if valid && !healthy {
		// The feed is down: a write may have gone unnoticed. Ask Redis for
		// the org's revision before answering from the cache.
		c.probes.Add(1)
		pctx, cancel := context.WithTimeout(ctx, c.cfg.ProbeTimeout)
		rev, change, err := c.stamps.Stamp(pctx, s.Org)
		cancel()
		switch {
		case err == nil && rev == e.f.Revision && change == e.f.Change:
			c.hits.Add(1)
			f := e.f
			f.Hit = true
			return f, nil
		case err == nil:
			c.Invalidate(s.Org)
			valid = false
		case verr.CodeOf(err) == verr.Unavailable:
			return c.staleOrFail(e, err)
		default:
			return Facts{}, err
		}
	}
	return c.read(ctx, s, key, e, valid)
}

// read reads s from the source and keeps the answer when nothing moved the
// org's version meanwhile.
func (c *Cache) read(ctx context.Context, s Scope, key Scope, old *entry, oldValid bool) (Facts, error) {
	c.misses.Add(1)
	c.mu.Lock()
	o := c.orgs[s.Org]
	if o == nil {
		o = &orgState{version: c.versions.Add(1)}
		c.orgs[s.Org] = o
	}
	o.inflight++
	start := o.version
	c.mu.Unlock()

	f, err := c.src.Facts(ctx, s)

	c.mu.Lock()
	o.inflight--
	if err != nil {
		// Redis failed under an entry that was current a moment ago (the
		// feed has not noticed yet): the entry may answer, within bounds.
		stillValid := oldValid && o.version == old.f.Version
		c.pruneLocked(s.Org, o)
		c.mu.Unlock()
		if stillValid && verr.CodeOf(err) == verr.Unavailable {
			return c.staleOrFail(old, err)
		}
		return Facts{}, err
	}
	f = c.keepLocked(key, o, start, f)
	c.mu.Unlock()
	return f, nil
}

// keepLocked keeps f unless the org's version moved since the read started
// (start) or f is older than what is kept; it returns f with the version it
// was kept at (0: not kept).
func (c *Cache) keepLocked(key Scope, o *orgState, start uint64, f Facts) Facts {
	f.Version = 0
	if !f.Known || o.version != start {
		c.pruneLocked(key.Org, o)
		return f
	}
	if o.revAt == o.version && (f.Revision != o.rev || f.Change != o.change) {
		if f.Revision < o.rev {
			return f // older than what is kept: answer, do not keep
		}
		o.version = c.versions.Add(1) // the kept entries are of another state
	}
	o.rev, o.change, o.revAt = f.Revision, f.Change, o.version
	f.Version = o.version
	if _, replaced := c.entries[key]; !replaced {
		if len(c.entries) >= c.cfg.MaxEntries {
			c.evictLocked()
		}
		o.entries++
	}
	if f.Read.IsZero() {
		f.Read = time.Now()
	}
	c.entries[key] = &entry{f: f, at: f.Read}
	return f
}

// staleOrFail answers e while Redis cannot be reached, if e was current
// within StaleMax; else the decision fails closed.
func (c *Cache) staleOrFail(e *entry, cause error) (Facts, error) {
	last := e.at
	if t := c.health.LastAlive(); t.After(last) {
		last = t
	}
	age := time.Since(last)
	if c.cfg.StaleMax <= 0 || age > c.cfg.StaleMax {
		c.refused.Add(1)
		return Facts{}, verr.Wrap(verr.Unavailable, "", cause,
			"facts store unavailable and the cached facts are %s old, past --stale-facts-max (%s): %v", age.Round(time.Millisecond), c.cfg.StaleMax, cause)
	}
	c.stale.Add(1)
	f := e.f
	f.Stale = max(age, time.Nanosecond)
	f.Version = 0 // never the basis of a cached decision
	return f, nil
}

// Attach keeps served — what the subject of s is served in its project and
// environment (verdict.served.summary), computed from the facts of version —
// with those facts, at data.verdict_data.orgs[org].served, so that the next
// decisions of the scope read it instead of working it out again. Nothing is
// kept when the entry moved on (another version) meanwhile.
func (c *Cache) Attach(s Scope, version uint64, served ast.Value) {
	if s.Token != nil || version == 0 || served == nil {
		return
	}
	key := s.key()
	c.mu.Lock()
	defer c.mu.Unlock()
	e, o := c.entries[key], c.orgs[s.Org]
	if e == nil || o == nil || e.f.Version != version || o.version != version || e.f.Served {
		return
	}
	v, ok := withServed(e.f.Value, s.Org, served)
	if !ok {
		return
	}
	f := e.f
	f.Value, f.Served = v, true
	c.entries[key] = &entry{f: f, at: e.at}
}

// withServed returns {org: facts + served}: a new top of the document that
// shares every other value with facts (which are never written into).
func withServed(facts ast.Value, org string, served ast.Value) (ast.Value, bool) {
	top, ok := facts.(ast.Object)
	if !ok {
		return nil, false
	}
	t := top.Get(ast.StringTerm(org))
	if t == nil {
		return nil, false
	}
	doc, ok := t.Value.(ast.Object)
	if !ok {
		return nil, false
	}
	n := ast.NewObjectWithCapacity(doc.Len() + 1)
	doc.Foreach(func(k, v *ast.Term) { n.Insert(k, v) })
	n.Insert(ast.InternedTerm("served"), ast.NewTerm(served))
	return ast.NewObject([2]*ast.Term{ast.StringTerm(org), ast.NewTerm(n)}), true
}

// evictLocked removes one entry at random.
func (c *Cache) evictLocked() {
	for k := range c.entries {
		delete(c.entries, k)
		if o := c.orgs[k.Org]; o != nil {
			o.entries--
			c.pruneLocked(k.Org, o)
		}
		return
	}
}

// pruneLocked forgets an org that has no entries and no reads in flight.
func (c *Cache) pruneLocked(org string, o *orgState) {
	if o.entries <= 0 && o.inflight <= 0 && c.orgs[org] == o {
		delete(c.orgs, org)
	}
}

// Invalidate moves org to a new version: nothing cached of it before answers
// again. The admin API calls it once a write is acknowledged
// (read-your-writes); the feed calls it for every change it hears of.
func (c *Cache) Invalidate(org string) {
	c.mu.Lock()
	if o := c.orgs[org]; o != nil {
		o.version = c.versions.Add(1)
	}
	c.mu.Unlock()
}

// InvalidateAll moves every org to a new version.
func (c *Cache) InvalidateAll() {
	c.mu.Lock()
	for _, o := range c.orgs {
		o.version = c.versions.Add(1)
	}
	c.mu.Unlock()
}

// Resync checks the revision of every org the cache holds and invalidates
// the orgs that moved; the feed calls it after (re)connecting, before it
// says it is healthy. An org whose revision cannot be read is invalidated.
func (c *Cache) Resync(ctx context.Context) error {
	type state struct {
		rev    int64
		change string
	}
	c.mu.RLock()
	held := make(map[string]state, len(c.orgs))
	for org, o := range c.orgs {
		held[org] = state{o.rev, o.change}
	}
	c.mu.RUnlock()
	for org, was := range held {
		rev, change, err := c.stamps.Stamp(ctx, org)
		if err != nil || rev != was.rev || change != was.change {
			c.Invalidate(org)
		}
		if verr.CodeOf(err) == verr.Unavailable {
			return err
		}
	}
	return nil
}

// Version is org's current version (0 when nothing of it is cached): a
// cached decision computed from facts of another version must not answer.
func (c *Cache) Version(org string) uint64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if o := c.orgs[org]; o != nil {
		return o.version
	}
	return 0
}

// Current reports whether cached facts are current (the feed is up): only
// then may answers computed from them be cached.
func (c *Cache) Current() bool { return c.health.Healthy() }

// MaxAge is how long an entry is trusted while the feed is up.
func (c *Cache) MaxAge() time.Duration { return c.cfg.MaxAge }

// CacheStats counts cache outcomes since start.
type CacheStats struct {
	Hits, Misses, Stale, Probes, Refused uint64
	Entries, Orgs                        int
	Served                               int // entries holding a served summary
}

// Stats returns the counters and sizes.
func (c *Cache) Stats() CacheStats {
	c.mu.RLock()
	n, orgs, served := len(c.entries), len(c.orgs), 0
	for _, e := range c.entries {
		if e.f.Served {
			served++
		}
	}
	c.mu.RUnlock()
	return CacheStats{Hits: c.hits.Load(), Misses: c.misses.Load(), Stale: c.stale.Load(), Probes: c.probes.Load(),
		Refused: c.refused.Load(), Entries: n, Orgs: orgs, Served: served}
}

// evictOne removes an arbitrary entry of m: Go starts every map iteration
// at a random place, so this is random eviction, O(1), with no bookkeeping
// per hit; for a working set of sessions it keeps most hot entries.
func evictOne[K comparable, V any](m map[K]V) {
	for k := range m {
		delete(m, k)
		return
	}
}

func joinErrors(errs []error) error {
	if len(errs) == 0 {
		return nil
	}
	if len(errs) == 1 {
		return errs[0]
	}
	msg := ""
	for i, e := range errs {
		if i > 0 {
			msg += "; "
		}
		msg += e.Error()
	}
	return verr.New(verr.InvalidInput, "", "%s", msg)
}

package assemble

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/verdict-pdp/verdict/internal/verr"
)

// CacheConfig configures a Cache.
type CacheConfig struct {
	// MaxEntries bounds the cache (default 1000: ~7 KiB of AST each); past
	// it an arbitrary entry makes room (Go's map iteration starts at a random
	// place: random eviction, O(1), no bookkeeping per hit). The PDP's memory depends on it, not on the org's size. Bigger is
	// not better: every cached entry is live heap the garbage collector
	// marks on every cycle, and at 5000 entries that marking cost more CPU
	// than the hits saved (docs/benchmarks.md, "Scale"). Size it to the
	// subjects at work within a few seconds, not to the org.
	MaxEntries int
	// MaxAge is how long an entry is trusted without a change-feed event
	// while the source answers (default 60s): a safety net should an event be
	// lost. While the source is unreachable, older entries are still served.
	MaxAge time.Duration
}

// Validate fills defaults.
func (c *CacheConfig) Validate() error {
	if c.MaxEntries <= 0 {
		c.MaxEntries = 1000
	}
	if c.MaxAge <= 0 {
		c.MaxAge = 60 * time.Second
	}
	return nil
}

// Cache is a Source that keeps the facts of recent Scopes, dropped per org
// when the change feed says the org changed (Invalidate). When the underlying
// source is unavailable (Redis down), cached facts are still answered —
// however old — and anything else fails, so the decision is denied.
//
// Requests carrying a verified token are not cached: their facts hold the
// token's claims.
//
// A Cache is safe for concurrent use.
type Cache struct {
	cfg CacheConfig
	src Source

	mu      sync.RWMutex
	entries map[Scope]entry
	epoch   map[string]uint64 // per org: bumped by Invalidate

	hits, misses, stale atomic.Uint64
}

type entry struct {
	value ast.Value
	at    time.Time
	epoch uint64
}

// NewCache wraps src.
func NewCache(cfg CacheConfig, src Source) *Cache {
	_ = cfg.Validate()
	return &Cache{cfg: cfg, src: src, entries: map[Scope]entry{}, epoch: map[string]uint64{}}
}

// Facts implements Source.
func (c *Cache) Facts(ctx context.Context, s Scope) (ast.Value, error) {
	if s.Token != nil {
		c.misses.Add(1)
		return c.src.Facts(ctx, s)
	}
	c.mu.RLock()
	e, ok := c.entries[s]
	epoch := c.epoch[s.Org]
	c.mu.RUnlock()
	if ok && e.epoch == epoch && time.Since(e.at) < c.cfg.MaxAge {
		c.hits.Add(1)
		return e.value, nil
	}
	c.misses.Add(1)
	v, err := c.src.Facts(ctx, s)
	if err != nil {
		// Fail closed, but keep answering what was known: an entry is only
		// served stale when the source cannot be reached at all.
		if ok && verr.CodeOf(err) == verr.Unavailable {
			c.stale.Add(1)
			return e.value, nil
		}
		return nil, err
	}
	c.mu.Lock()
	if c.epoch[s.Org] == epoch { // not invalidated while we read
		if len(c.entries) >= c.cfg.MaxEntries {
			EvictOne(c.entries)
		}
		c.entries[s] = entry{value: v, at: time.Now(), epoch: epoch}
	}
	c.mu.Unlock()
	return v, nil
}

// Invalidate drops every cached scope of org, in O(1): entries of an older
// epoch are never served again and are overwritten as they are read anew.
func (c *Cache) Invalidate(org string) {
	c.mu.Lock()
	c.epoch[org]++
	c.mu.Unlock()
}

// CacheStats counts cache outcomes since start.
type CacheStats struct{ Hits, Misses, Stale uint64 }

// Stats returns the counters.
func (c *Cache) Stats() CacheStats {
	return CacheStats{Hits: c.hits.Load(), Misses: c.misses.Load(), Stale: c.stale.Load()}
}

// Epoch is the org's invalidation counter: it changes whenever the org's
// cached facts are dropped.
func (c *Cache) Epoch(org string) uint64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.epoch[org]
}

// MaxAge is how long an entry is trusted while the source answers.
func (c *Cache) MaxAge() time.Duration { return c.cfg.MaxAge }

// EvictOne removes an arbitrary entry: Go starts every map iteration at a
// random place, so this is random eviction, which for a working set of
// sessions keeps most hot entries, unlike clearing the whole map. The
// decision cache (internal/pdp) evicts with it too.
func EvictOne[K comparable, V any](m map[K]V) {
	for k := range m {
		delete(m, k)
		return
	}
}

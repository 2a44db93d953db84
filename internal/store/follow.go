package store

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/verdict-pdp/verdict/internal/assemble"
)

// Cached is the central PDP's Source: subject facts from Redis, kept in an
// assemble.Cache that the org's change feed invalidates. One follower per
// org is started on the org's first decision; it blocks on the feed (XREAD),
// so a write reaches the cache within one round trip.
//
// When a follower loses Redis it invalidates nothing while Redis is away
// (cached facts keep answering, by design) and invalidates the org once it is
// back, since it cannot know what it missed.
type Cached struct {
	st    *Store
	srcOf *Source
	cache *assemble.Cache
	log   *slog.Logger
	ctx   context.Context

	mu        sync.Mutex
	following map[string]bool

	// OnChange, when set before use, is called for every change read.
	OnChange func(Change)
}

// NewCached returns a caching Source; followers stop when ctx ends.
func NewCached(ctx context.Context, st *Store, cfg assemble.CacheConfig, log *slog.Logger) *Cached {
	src := NewSource(st)
	return &Cached{st: st, srcOf: src, cache: assemble.NewCache(cfg, src), log: log, ctx: ctx, following: map[string]bool{}}
}

// Cache returns the underlying cache (stats).
func (c *Cached) Cache() *assemble.Cache { return c.cache }

// Facts implements assemble.Source.
func (c *Cached) Facts(ctx context.Context, s assemble.Scope) (ast.Value, error) {
	c.follow(s.Org)
	return c.cache.Facts(ctx, s)
}

// Follow starts following org's change feed now (idempotent).
func (c *Cached) Follow(org string) { c.follow(org) }

func (c *Cached) follow(org string) {
	if org == "" {
		return
	}
	c.mu.Lock()
	if c.following[org] {
		c.mu.Unlock()
		return
	}
	c.following[org] = true
	c.mu.Unlock()
	ready := make(chan struct{})
	go c.run(org, ready)
	// Wait until the follower knows where the feed stands, so that a write
	// made after this decision is never missed; bounded, since Redis may be down.
	select {
	case <-ready:
	case <-time.After(200 * time.Millisecond):
	}
}

func (c *Cached) run(org string, ready chan struct{}) {
	last := ""
	down := false
	backoff := 50 * time.Millisecond
	for c.ctx.Err() == nil {
		if last == "" {
			id, err := c.st.LastChangeID(c.ctx, org)
			if err != nil {
				down = c.lost(org, down, err)
				sleep(c.ctx, &backoff)
				continue
			}
			last = id
			c.cache.Invalidate(org)
			close(ready)
			ready = make(chan struct{}) // later closes are harmless
		}
		changes, err := c.st.ReadChanges(c.ctx, org, last, 5*time.Second)
		if err != nil {
			down = c.lost(org, down, err)
			sleep(c.ctx, &backoff)
			continue
		}
		if down {
			down = false
			backoff = 50 * time.Millisecond
			c.log.Info("change feed back: dropping cached facts", "org", org)
			c.cache.Invalidate(org)
			c.src().Forget(org)
		}
		for _, ch := range changes {
			last = ch.ID
			c.cache.Invalidate(org)
			if ch.All {
				c.src().Forget(org)
			}
			if c.OnChange != nil {
				c.OnChange(ch)
			}
		}
	}
}

func (c *Cached) src() *Source { return c.srcOf }

func (c *Cached) lost(org string, down bool, err error) bool {
	if !down && c.ctx.Err() == nil {
		c.log.Warn("change feed lost: serving cached facts only until Redis is back", "org", org, "err", err)
	}
	return true
}

func sleep(ctx context.Context, d *time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(*d):
	}
	if *d < 2*time.Second {
		*d *= 2
	}
}

// ScanUserIDs pages through an org's users (subject search).
func (c *Cached) ScanUserIDs(ctx context.Context, org, token string, batch int) ([]string, string, error) {
	return c.st.ScanUserIDs(ctx, org, token, batch)
}

// Epoch implements pdp.Versioned.
func (c *Cached) Epoch(org string) uint64 { return c.cache.Epoch(org) }

// MaxAge implements pdp.Versioned.
func (c *Cached) MaxAge() time.Duration { return c.cache.MaxAge() }

package pdp

import (
	"context"
	"encoding/json"
	"sync"
	"sync/atomic"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/verdict-pdp/verdict/internal/authzen"
	"github.com/verdict-pdp/verdict/internal/decision"
	"github.com/verdict-pdp/verdict/internal/facts"
)

// Versioned is a facts source whose answers may be cached (facts.Cache): an
// org's version changes whenever its facts may have, and is never reused.
type Versioned interface {
	// Version is org's current version (0: nothing of it is cached).
	Version(org string) uint64
	// Current reports whether cached facts are current (the change feed is
	// up); answers are neither cached nor served from the cache otherwise.
	Current() bool
	// MaxAge is how long facts are trusted while current.
	MaxAge() time.Duration
}

type moreKey struct{}

// MoreFollow marks ctx of a decision that other decisions of the same
// subject, project and environment follow (the first item of a batch's
// scope): what the subject is served there is worked out and kept with the
// first one already.
func MoreFollow(ctx context.Context) context.Context { return context.WithValue(ctx, moreKey{}, true) }

func moreFollow(ctx context.Context) bool { v, _ := ctx.Value(moreKey{}).(bool); return v }

// Attacher keeps what a subject is served in a project and environment with
// the facts it was computed from (facts.Cache).
type Attacher interface {
	Attach(s facts.Scope, version uint64, served ast.Value)
}

// decisionCache keeps answers to exact requests, valid while the org's
// facts version and the policy revision are unchanged and for at most the
// facts' MaxAge from when those facts were read (not from when the answer
// was computed): an answer can never outlive the facts it was computed from.
// It is what makes repeated checks (a user moving through a UI flow) cost a
// map lookup instead of a policy evaluation.
type decisionCache struct {
	mu      sync.RWMutex
	entries map[string]cachedDecision
	max     int
	hits    atomic.Uint64
}

type cachedDecision struct {
	d       decision.Decision
	version uint64
	rev     string
	at      time.Time // when its facts were read (facts.Facts.Read)
	active  bool      // the subject was an active user (last_seen)
}

func newDecisionCache(max int) *decisionCache {
	return &decisionCache{entries: map[string]cachedDecision{}, max: max}
}

// MaxDecisionKeyBytes bounds the request a cached answer is kept for: a
// request is its own key, and a body may be up to --max-body-bytes, so the
// cache's bound in entries alone would not bound its bytes. Real requests
// are a few hundred bytes; larger ones are decided every time.
const MaxDecisionKeyBytes = 4096

// key is the org and the request in canonical JSON (encoding/json sorts map
// keys), so equal requests share an entry however they were written. A
// request longer than MaxDecisionKeyBytes is not cached.
func decisionKey(r *authzen.Request) (string, bool) {
	b, err := json.Marshal(r)
	if err != nil || len(b) > MaxDecisionKeyBytes {
		return "", false
	}
	return r.Org() + "\x00" + string(b), true
}

func (c *decisionCache) get(key string, version uint64, rev string, maxAge time.Duration) (cachedDecision, bool) {
	c.mu.RLock()
	e, ok := c.entries[key]
	c.mu.RUnlock()
	if !ok || version == 0 || e.version != version || e.rev != rev || time.Since(e.at) > maxAge {
		return cachedDecision{}, false
	}
	c.hits.Add(1)
	return e, true
}

func (c *decisionCache) put(key string, e cachedDecision) {
	if e.at.IsZero() {
		e.at = time.Now()
	}
	c.mu.Lock()
	if _, ok := c.entries[key]; !ok && len(c.entries) >= c.max {
		for k := range c.entries { // random eviction: map iteration starts anywhere
			delete(c.entries, k)
			break
		}
	}
	c.entries[key] = e
	c.mu.Unlock()
}

package pdp

import (
	"encoding/json"
	"sync"
	"sync/atomic"
	"time"

	"github.com/verdict-pdp/verdict/internal/assemble"
	"github.com/verdict-pdp/verdict/internal/authzen"
	"github.com/verdict-pdp/verdict/internal/decision"
)

// Versioned is a facts source that can tell when an org's facts changed: its
// epoch for the org grows with every change it learns of (the facts cache,
// fed by the change feed).
type Versioned interface {
	Epoch(org string) uint64
	MaxAge() time.Duration
}

// decisionCache keeps answers to exact requests, valid while the org's facts
// epoch and the policy revision are unchanged and for at most the facts'
// MaxAge: an answer can never outlive the facts it was computed from. It is
// what makes repeated checks (a user moving through a UI flow) cost a map
// lookup instead of a policy evaluation.
type decisionCache struct {
	mu      sync.RWMutex
	entries map[string]cachedDecision
	max     int
	hits    atomic.Uint64
}

type cachedDecision struct {
	d     decision.Decision
	epoch uint64
	rev   string
	at    time.Time
}

func newDecisionCache(max int) *decisionCache {
	return &decisionCache{entries: map[string]cachedDecision{}, max: max}
}

// key is the org and the request in canonical JSON (encoding/json sorts map
// keys), so equal requests share an entry however they were written.
func decisionKey(r *authzen.Request) (string, bool) {
	b, err := json.Marshal(r)
	if err != nil {
		return "", false
	}
	return r.Org() + "\x00" + string(b), true
}

func (c *decisionCache) get(key string, epoch uint64, rev string, maxAge time.Duration) (decision.Decision, bool) {
	c.mu.RLock()
	e, ok := c.entries[key]
	c.mu.RUnlock()
	if !ok || e.epoch != epoch || e.rev != rev || time.Since(e.at) > maxAge {
		return decision.Decision{}, false
	}
	c.hits.Add(1)
	return e.d, true
}

func (c *decisionCache) put(key string, d decision.Decision, epoch uint64, rev string) {
	c.mu.Lock()
	if len(c.entries) >= c.max {
		assemble.EvictOne(c.entries)
	}
	c.entries[key] = cachedDecision{d: d, epoch: epoch, rev: rev, at: time.Now()}
	c.mu.Unlock()
}

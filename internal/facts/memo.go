package facts

import (
	"sync"

	"github.com/open-policy-agent/opa/v1/ast"
)

// memo keeps the decoded form of stored records that many subjects' facts
// share — a project, a group, a designer group's assignments, an
// environment's active policy, group shares and overrides, a filter — by
// their exact stored text: the same text decodes to the same value, so the
// decoding is done once and the (immutable) value shared by every decision
// that reads it. A record that changes has another text: it is decoded anew;
// the old one ages out. Records only one subject reads (its user record, its
// own share) are not kept.
//
// Bounded (random eviction past max); safe for concurrent use.
type memo struct {
	mu  sync.RWMutex
	m   map[memoKey]*ast.Term
	max int
}

type memoKey struct{ key, field, raw string }

func newMemo(max int) *memo { return &memo{m: map[memoKey]*ast.Term{}, max: max} }

// get returns the value of the record, decoding it with decode the first
// time its text is seen. A record that does not decode is never kept.
func (m *memo) get(key, field, raw string, decode func() (*ast.Term, error)) (*ast.Term, error) {
	k := memoKey{key, field, raw}
	m.mu.RLock()
	v, ok := m.m[k]
	m.mu.RUnlock()
	if ok {
		return v, nil
	}
	v, err := decode()
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	if len(m.m) >= m.max {
		evictOne(m.m)
	}
	m.m[k] = v
	m.mu.Unlock()
	return v, nil
}

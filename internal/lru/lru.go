// Package lru is a bounded map that forgets its least recently used entry
// when full: the cache of anything whose keys callers choose (data paths,
// table names), so that what they send cannot grow memory without limit.
//
// A Cache owns its entries; values are shared with callers as they are (keep
// them immutable). Safe for concurrent use.
package lru

import (
	"container/list"
	"sync"
)

// Cache holds at most Max entries.
type Cache[V any] struct {
	mu  sync.Mutex
	max int
	ll  *list.List // front: most recently used
	m   map[string]*list.Element
}

type item[V any] struct {
	key string
	v   V
}

// New returns a cache of at most n entries (at least 1).
func New[V any](n int) *Cache[V] {
	return &Cache[V]{max: max(n, 1), ll: list.New(), m: map[string]*list.Element{}}
}

// Get returns key's value and marks it used.
func (c *Cache[V]) Get(key string) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.m[key]; ok {
		c.ll.MoveToFront(el)
		return el.Value.(*item[V]).v, true
	}
	var zero V
	return zero, false
}

// Add keeps v under key, forgetting the least recently used entry when full.
func (c *Cache[V]) Add(key string, v V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.m[key]; ok {
		el.Value.(*item[V]).v = v
		c.ll.MoveToFront(el)
		return
	}
	if c.ll.Len() >= c.max {
		last := c.ll.Back()
		c.ll.Remove(last)
		delete(c.m, last.Value.(*item[V]).key)
	}
	c.m[key] = c.ll.PushFront(&item[V]{key: key, v: v})
}

// Len is the number of entries held.
func (c *Cache[V]) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ll.Len()
}

// Max is the bound.
func (c *Cache[V]) Max() int { return c.max }

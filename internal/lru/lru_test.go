package lru

import (
	"strconv"
	"testing"
)

// More distinct keys than the bound leave exactly the bound, the most
// recently used kept.
func TestBoundedAndRecent(t *testing.T) {
	c := New[int](3)
	for i := range 10_000 {
		c.Add(strconv.Itoa(i), i)
		if i == 5000 {
			c.Get("0") // long gone: no effect
		}
	}
	if c.Len() != 3 {
		t.Fatalf("len %d, want 3", c.Len())
	}
	c.Get("9997") // used: survives the next two additions
	c.Add("a", 1)
	c.Add("b", 2)
	if _, ok := c.Get("9997"); !ok {
		t.Fatal("the most recently used entry was evicted")
	}
	if _, ok := c.Get("9998"); ok {
		t.Fatal("the least recently used entry was kept")
	}
	if New[int](0).Max() != 1 {
		t.Fatal("a bound below 1 must be 1")
	}
}

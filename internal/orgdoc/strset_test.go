package orgdoc

import (
	"fmt"
	"strings"
	"testing"
)

// TestStrSet checks the compact set against a map: growth, long members
// (a chunk of their own), the empty string, reset.
func TestStrSet(t *testing.T) {
	s := newStrSet()
	want := map[string]bool{}
	long := strings.Repeat("x", chunkSize+10)
	for round := range 2 {
		for i := range 50000 {
			name := fmt.Sprintf("u%d", i*7%40000)
			if i%9999 == 0 {
				name = long + name
			}
			if i == 3 {
				name = ""
			}
			if s.has(name) != want[name] {
				t.Fatalf("round %d: has(%.20q) = %v before adding", round, name, s.has(name))
			}
			s.add(name)
			want[name] = true
		}
		for i := range 60000 {
			name := fmt.Sprintf("u%d", i)
			if s.has(name) != want[name] {
				t.Fatalf("round %d: has(%q) = %v, want %v", round, name, s.has(name), want[name])
			}
		}
		if s.n != len(want) {
			t.Fatalf("round %d: %d members, want %d", round, s.n, len(want))
		}
		s.reset()
		clear(want)
		if s.has("u1") || s.n != 0 {
			t.Fatal("reset kept members")
		}
	}
}

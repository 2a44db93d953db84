package pdp

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/verdict-pdp/verdict/internal/authzen"
	"github.com/verdict-pdp/verdict/internal/decision"
)

// A full decision cache makes room for a new answer by evicting one entry,
// not by dropping everything: it stays at its bound, with the newest answer
// and almost all of the others.
func TestDecisionCacheEvictsOne(t *testing.T) {
	c := newDecisionCache(100)
	for i := range 150 {
		c.put(strconv.Itoa(i), cachedDecision{d: decision.Decision{Decision: true}, version: 1, rev: "r"})
	}
	if n := len(c.entries); n != 100 {
		t.Fatalf("%d entries, want the bound 100", n)
	}
	if _, ok := c.get("149", 1, "r", time.Minute); !ok {
		t.Error("the newest answer was evicted")
	}
	// An answer of another version or revision is never served.
	if _, ok := c.get("149", 2, "r", time.Minute); ok {
		t.Error("an answer of another facts version was served")
	}
	if _, ok := c.get("149", 1, "other", time.Minute); ok {
		t.Error("an answer of another policy revision was served")
	}
}

// A request larger than MaxDecisionKeyBytes is decided but not kept: the
// cache's bytes stay bounded by entries × MaxDecisionKeyBytes whatever the
// body limit.
func TestDecisionCacheKeysBounded(t *testing.T) {
	r := &authzen.Request{Subject: &authzen.Entity{Type: "user", ID: "u"}, Action: &authzen.Action{Name: "access"},
		Resource: &authzen.Entity{Type: "solution", ID: "s"}, Context: map[string]any{"org": "demo"}}
	if _, ok := decisionKey(r); !ok {
		t.Fatal("an ordinary request is not cacheable")
	}
	r.Context["padding"] = strings.Repeat("x", MaxDecisionKeyBytes)
	if k, ok := decisionKey(r); ok {
		t.Fatalf("a %d-byte key is cacheable", len(k))
	}
}

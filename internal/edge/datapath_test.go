package edge_test

import (
	"fmt"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/verdict-pdp/verdict/internal/edge"
)

// TestEdgeDataPathsBounded: the edge's data API keeps prepared queries only
// for paths its bundles define. 10,000 distinct paths over HTTP, half of
// them unknown (404), half deep below a rule (answered, a lookup into the
// rule's value), leave one prepared query, and the heap within 16 MiB of
// where it started (docs/limits.md); the edge keeps answering decisions.
func TestEdgeDataPathsBounded(t *testing.T) {
	c := demo(t)
	s := signer(t)
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "demo.tar.gz"), build(t, &c.Orgs[0], s, "1"))
	e := start(t, edge.Config{Bundles: []string{filepath.Join(dir, "demo.tar.gz")}, VerificationKey: s.PublicKey()}, nil)
	waitRevision(t, e.Edge, "demo@1")
	in := map[string]any{"input": map[string]any{
		"subject": map[string]any{"type": "user", "id": "u-tom"}, "action": map[string]any{"name": "access"},
		"resource": map[string]any{"type": "solution", "id": "mortgage"}, "context": map[string]any{"org": "demo", "environment": "prod"},
	}}
	var out map[string]any
	if code := post(t, e.URL+"/v1/data/verdict/main/decision/decision", in, &out); code != 200 || out["result"] != true {
		t.Fatalf("a lookup below the decision rule: %d %v", code, out)
	}
	before := heapAfterGC()
	for i := range 10_000 {
		path, want := fmt.Sprintf("/v1/data/verdict/made/up/%d", i), 404
		if i%2 == 1 {
			path, want = fmt.Sprintf("/v1/data/verdict/main/decision/context/%d", i), 200
		}
		if code := post(t, e.URL+path, in, nil); code != want {
			t.Fatalf("%s: %d, want %d", path, code, want)
		}
	}
	if n := e.PreparedDataPaths(); n != 1 {
		t.Errorf("%d prepared queries after 10,000 distinct paths; want 1", n)
	}
	grown := int64(heapAfterGC()) - int64(before)
	t.Logf("heap after 10,000 distinct data paths: %+d KiB", grown>>10)
	if grown > 16<<20 {
		t.Errorf("the heap grew by %d MiB over 10,000 distinct data paths; the bound is 16 MiB", grown>>20)
	}
	if code := post(t, e.URL+"/v1/data/verdict/main/decision", in, &out); code != 200 {
		t.Errorf("the edge stopped answering: %d %v", code, out)
	}
}

func heapAfterGC() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// replay.lua sends the lines of its part, each once, every thread its own,
// wrapped for OPA's data API; when the part runs out it repeats and says how
// many requests were repeats.
func TestWrkReplaysItsPart(t *testing.T) {
	if _, err := exec.LookPath("wrk"); err != nil {
		t.Fatal("wrk is not installed: make deps installs it (apt-get install wrk)")
	}
	dir := t.TempDir()
	var lines []string
	for i := range 50 {
		lines = append(lines, fmt.Sprintf(`{"n":%d}`, i))
	}
	file := filepath.Join(dir, "req.jsonl")
	if err := os.WriteFile(file, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name       string
		count      int
		slow       time.Duration // per request: bounds how many a run sends
		wantRepeat bool
	}{
		{"part larger than the run", 30, 150 * time.Millisecond, false},
		{"part smaller than the run", 2, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var mu sync.Mutex
			seen := map[string]int{}
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				mu.Lock()
				seen[r.URL.Path+" "+string(b)]++
				mu.Unlock()
				time.Sleep(tc.slow)
				w.Write([]byte(`{"result":{"decision":true}}`))
			}))
			defer srv.Close()
			res, err := runWrk(context.Background(), dir, wrkLoad{url: srv.URL, path: "/v1/data/x/decision", api: "opa", file: file,
				start: 10, count: tc.count, threads: 2, conns: 2, duration: time.Second})
			if err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			defer mu.Unlock()
			total := 0
			for k, n := range seen {
				total += n
				var i int
				if _, err := fmt.Sscanf(k, `/v1/data/x/decision {"input":{"n":%d}}`, &i); err != nil || i < 10 || i >= 10+tc.count {
					t.Errorf("sent %q, not a line of the part [10, %d)", k, 10+tc.count)
				}
				if n > 1 && !tc.wantRepeat {
					t.Errorf("%q sent %d times", k, n)
				}
			}
			if res.Requests == 0 || total < int(res.Requests) {
				t.Errorf("wrk counted %d requests, the server saw %d", res.Requests, total)
			}
			if got := res.Repeated > 0; got != tc.wantRepeat {
				t.Errorf("repeated %d (server saw %d requests of %d lines), want repeats: %v", res.Repeated, total, len(seen), tc.wantRepeat)
			}
			if res.errors() != 0 {
				t.Errorf("errors: %s", res)
			}
		})
	}
}

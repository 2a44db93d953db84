// Package raceload is a short, bounded mixed load on a whole central PDP
// (real Redis, real HTTP): single decisions, batches (which fan out onto
// goroutines sharing the request's context), the data API, filters and
// admin writes (which invalidate cached facts and rebuild bundles while
// decisions read them), at once. It is run under the race detector by
// `make race` (part of `make test`); it is bounded by request count, never
// by time, and asserts answers, not speed.
package raceload

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/verdict-pdp/verdict/internal/cmd/importexport"
	"github.com/verdict-pdp/verdict/internal/cmd/serve"
	"github.com/verdict-pdp/verdict/internal/testutil/redistest"
)

const (
	workers    = 6
	iterations = 25 // per worker; each iteration sends 6 requests
)

var users = []string{"u-tom", "u-maria", "u-lee"}

func evaluation(user string) map[string]any {
	return map[string]any{
		"subject": map[string]any{"type": "user", "id": user}, "action": map[string]any{"name": "access"},
		"resource": map[string]any{"type": "solution", "id": "mortgage"}, "context": map[string]any{"environment": "prod"},
	}
}

func TestMixedLoad(t *testing.T) {
	rs := redistest.Start(t)
	var out, errOut bytes.Buffer
	if code := importexport.Import(context.Background(), []string{"../../data/demo.json", "--redis-url", rs.URL()}, &out, &errOut); code != 0 {
		t.Fatalf("import: %d %s", code, errOut.String())
	}
	cfg := &serve.Config{RedisURL: rs.URL(), Auth: "none", DefaultOrg: "demo", Addr: "127.0.0.1:0"}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	srv, err := serve.Start(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	base := "http://" + srv.Addr
	client := &http.Client{Timeout: 2 * time.Minute} // a hang guard
	send := func(method, path string, body any) (int, []byte, error) {
		b, _ := json.Marshal(body)
		req, _ := http.NewRequest(method, base+path, bytes.NewReader(b))
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			return 0, nil, err
		}
		defer resp.Body.Close()
		raw, err := io.ReadAll(resp.Body)
		return resp.StatusCode, raw, err
	}
	// A write that keeps meeting concurrent ones is refused 409 after the
	// store's own retries (docs/admin-api.md); the caller retries, as a
	// client should.
	write := func(method, path string, body any) (int, []byte, error) {
		for range 50 {
			code, raw, err := send(method, path, body)
			if err != nil || code != http.StatusConflict {
				return code, raw, err
			}
			time.Sleep(5 * time.Millisecond)
		}
		return send(method, path, body)
	}
	var wg sync.WaitGroup
	errs := make(chan error, workers*iterations*6)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			check := func(what string, want int, code int, raw []byte, err error) bool {
				if err != nil || code != want {
					errs <- fmt.Errorf("worker %d %s: %d %v %s", w, what, code, err, raw)
					return false
				}
				return true
			}
			for i := range iterations {
				user := users[(w+i)%len(users)]
				code, raw, err := send("POST", "/access/v1/evaluation", evaluation(user))
				var d struct{ Decision *bool }
				if check("evaluation", 200, code, raw, err) && (json.Unmarshal(raw, &d) != nil || d.Decision == nil) {
					errs <- fmt.Errorf("evaluation: no decision in %s", raw)
				}
				items := make([]any, 20)
				for k := range items {
					items[k] = evaluation(users[k%len(users)])
				}
				code, raw, err = send("POST", "/access/v1/evaluations", map[string]any{"evaluations": items})
				var b struct{ Evaluations []struct{ Decision *bool } }
				if check("batch", 200, code, raw, err) && (json.Unmarshal(raw, &b) != nil || len(b.Evaluations) != 20) {
					errs <- fmt.Errorf("batch: %s", raw)
				}
				code, raw, err = send("POST", "/v1/data/verdict/main/decision", map[string]any{"input": evaluation(user)})
				check("data API", 200, code, raw, err)
				code, raw, err = send("POST", "/v1/filters/applications_by_branch", map[string]any{"user": user})
				check("filter", 200, code, raw, err)
				// Writes: the PDP invalidates its cached facts of the org
				// and the change feed rebuilds what it keeps, while the
				// others decide.
				code, raw, err = write("PATCH", "/admin/v1/orgs/demo/users/u-lee",
					map[string]any{"attributes": map[string]any{"note": []string{fmt.Sprintf("w%d-%d", w, i)}}})
				check("admin write", 200, code, raw, err)
				code, raw, err = write("POST", "/admin/v1/orgs/demo/groups", map[string]any{"name": fmt.Sprintf("load-%d-%d", w, i)})
				check("admin create", 201, code, raw, err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	n := 0
	for err := range errs {
		if n++; n <= 10 {
			t.Error(err)
		}
	}
	if n > 10 {
		t.Errorf("... and %d more", n-10)
	}
	// Still answering after the load, and the writes landed.
	code, raw, err := send("GET", "/admin/v1/orgs/demo/users/u-lee", nil)
	if err != nil || code != 200 || !strings.Contains(string(raw), `"note"`) {
		t.Errorf("after the load: %d %v %s", code, err, raw)
	}
}

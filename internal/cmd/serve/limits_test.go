package serve

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/verdict-pdp/verdict/internal/cmd/importexport"
	"github.com/verdict-pdp/verdict/internal/testutil/redistest"
)

// The tests of docs/limits.md that need the whole central PDP: each sends
// more than a bound and checks that memory or goroutines stay under a
// stated ceiling and that the server keeps answering others. No test
// asserts a duration; the deadlines below are hang guards.

const hangGuard = 2 * time.Minute

// limitsPDP starts a central PDP on a real Redis holding the demo org, with
// cfg's bounds.
func limitsPDP(t *testing.T, cfg Config) (*Server, string) {
	t.Helper()
	rs := redistest.Start(t)
	var out, errOut bytes.Buffer
	if code := importexport.Import(context.Background(), []string{"../../../data/demo.json", "--redis-url", rs.URL()}, &out, &errOut); code != 0 {
		t.Fatalf("import: %d %s %s", code, out.String(), errOut.String())
	}
	cfg.RedisURL, cfg.Auth, cfg.DefaultOrg, cfg.Addr = rs.URL(), "none", "demo", "127.0.0.1:0"
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	srv, err := Start(context.Background(), &cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	return srv, rs.URL()
}

// noKeepAlive is a client whose finished requests leave no connection (and
// no goroutine) behind, so goroutine counts measure the server.
var noKeepAlive = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: hangGuard}

const tomRequest = `{"subject": {"type": "user", "id": "u-tom"}, "action": {"name": "access"},
 "resource": {"type": "solution", "id": "mortgage"}, "context": {"environment": "prod"}}`

// decide asks one decision and returns its status.
func decide(t *testing.T, addr string) int {
	t.Helper()
	resp, err := noKeepAlive.Post("http://"+addr+"/access/v1/evaluation", "application/json", strings.NewReader(tomRequest))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

func get(t *testing.T, url string, header map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := noKeepAlive.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func heapAfterGC() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// goroutinesSettle returns the goroutine count once it stops falling (what
// finished requests leave behind has ended), within the hang guard.
func goroutinesSettle() int {
	n := runtime.NumGoroutine()
	for range 50 {
		time.Sleep(20 * time.Millisecond)
		m := runtime.NumGoroutine()
		if m >= n {
			return m
		}
		n = m
	}
	return n
}

// TestDataPathsRetainNothing: 10,000 distinct data paths over HTTP, half of
// them made up (404) and half deep below the decision rule (200, a lookup),
// leave the heap within 16 MiB of where it was (before the bound, each path
// kept a prepared query of ~12 KiB: 10,000 paths kept over 100 MiB), and the
// PDP keeps deciding.
func TestDataPathsRetainNothing(t *testing.T) {
	srv, _ := limitsPDP(t, Config{})
	client := &http.Client{Timeout: hangGuard}
	in := `{"input": ` + tomRequest + `}`
	post := func(path string) int {
		resp, err := client.Post("http://"+srv.Addr+path, "application/json", strings.NewReader(in))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		_, _ = io.Copy(io.Discard, resp.Body)
		return resp.StatusCode
	}
	post("/v1/data/verdict/main/decision/context") // the one query these paths need
	before := heapAfterGC()
	for i := range 10_000 {
		path, want := fmt.Sprintf("/v1/data/verdict/random/%x/path", i*7919), http.StatusNotFound
		if i%2 == 1 {
			path, want = fmt.Sprintf("/v1/data/verdict/main/decision/context/%d", i), http.StatusOK
		}
		if code := post(path); code != want {
			t.Fatalf("%s: %d, want %d", path, code, want)
		}
	}
	grown := int64(heapAfterGC()) - int64(before)
	t.Logf("heap after 10,000 distinct data paths: %+d KiB", grown>>10)
	if grown > 16<<20 {
		t.Errorf("the heap grew by %d MiB over 10,000 distinct data paths; the bound is 16 MiB", grown>>20)
	}
	if code := decide(t, srv.Addr); code != http.StatusOK {
		t.Errorf("a decision after the paths: %d", code)
	}
}

// heldRequest is a request whose body is still being sent: the server has
// let it in and its handler waits for the rest.
type heldRequest struct{ conn net.Conn }

func holdRequest(t *testing.T, addr string) *heldRequest {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	fmt.Fprintf(c, "POST /access/v1/evaluation HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s",
		len(tomRequest), tomRequest[:10])
	return &heldRequest{c}
}

// finish sends the rest of the body and returns the answer's status line.
func (h *heldRequest) finish(t *testing.T) string {
	t.Helper()
	if _, err := io.WriteString(h.conn, tomRequest[10:]); err != nil {
		t.Fatal(err)
	}
	_ = h.conn.SetReadDeadline(time.Now().Add(hangGuard))
	b, _ := io.ReadAll(h.conn)
	line, _, _ := strings.Cut(string(b), "\r\n")
	return line
}

// TestRequestsPastTheBoundRefused: with --max-requests 2 and two requests
// in progress, the next is answered 503 unavailable with Retry-After in the
// one error shape and counted; /health and /metrics still answer; once the
// two are done, requests are served again.
func TestRequestsPastTheBoundRefused(t *testing.T) {
	srv, _ := limitsPDP(t, Config{MaxRequests: 2})
	held := []*heldRequest{holdRequest(t, srv.Addr), holdRequest(t, srv.Addr)}
	// The held requests are let in as soon as their headers are read: until
	// then a request may still be served.
	deadline := time.Now().Add(hangGuard)
	var resp *http.Response
	var body []byte
	for {
		resp, body = postDecision(t, srv.Addr)
		if resp.StatusCode == http.StatusServiceUnavailable {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no 503 with two requests held and --max-requests 2: %d %s", resp.StatusCode, body)
		}
		time.Sleep(10 * time.Millisecond)
	}
	var e struct {
		Error struct{ Code, Message string }
	}
	if err := json.Unmarshal(body, &e); err != nil || e.Error.Code != "unavailable" || resp.Header.Get("Retry-After") != "1" {
		t.Errorf("the refusal: Retry-After %q, body %s", resp.Header.Get("Retry-After"), body)
	}
	if r, _ := get(t, "http://"+srv.Addr+"/health", nil); r.StatusCode != http.StatusOK {
		t.Errorf("/health while at the bound: %d", r.StatusCode)
	}
	if _, m := get(t, "http://"+srv.Addr+"/metrics", nil); !bytes.Contains(m, []byte(`verdict_http_rejected_total{reason="max_requests"}`)) ||
		bytes.Contains(m, []byte(`verdict_http_rejected_total{reason="max_requests"} 0`)) {
		t.Errorf("the refusal is not counted:\n%s", grepLines(m, "verdict_http_rejected_total"))
	}
	for i, h := range held {
		if line := h.finish(t); !strings.Contains(line, " 200 ") {
			t.Errorf("held request %d: %q", i, line)
		}
	}
	if code := decide(t, srv.Addr); code != http.StatusOK {
		t.Errorf("after the held requests ended: %d", code)
	}
}

func postDecision(t *testing.T, addr string) (*http.Response, []byte) {
	t.Helper()
	resp, err := noKeepAlive.Post("http://"+addr+"/access/v1/evaluation", "application/json", strings.NewReader(tomRequest))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func grepLines(b []byte, s string) string {
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.Contains(l, s) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestLongPollsPastTheBoundRefused: with --max-long-polls 4, 24 long polls
// at once: 4 wait, 20 are answered 503 with Retry-After at once; the
// goroutines stay under a ceiling of 40 per waiting long poll (both ends of
// its connection live in this process) plus 50; waiting long polls hold no
// request slot (--max-requests 2: decisions are still answered); a write
// ends the waits with the new bundle.
func TestLongPollsPastTheBoundRefused(t *testing.T) {
	const allowed, sent = 4, 24
	srv, redisURL := limitsPDP(t, Config{MaxLongPolls: allowed, MaxRequests: 2})
	url := "http://" + srv.Addr + "/bundles/demo/all.tar.gz"
	first, _ := get(t, url, nil)
	etag := first.Header.Get("ETag")
	if first.StatusCode != http.StatusOK || etag == "" {
		t.Fatalf("first bundle: %d %q", first.StatusCode, etag)
	}
	base := goroutinesSettle()
	type answer struct {
		status     int
		retryAfter string
	}
	answers := make(chan answer, sent)
	var wg sync.WaitGroup
	for range sent {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest(http.MethodGet, url, nil)
			req.Header.Set("If-None-Match", etag)
			req.Header.Set("Prefer", "wait=40")
			resp, err := noKeepAlive.Do(req)
			if err != nil {
				answers <- answer{status: -1}
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			answers <- answer{resp.StatusCode, resp.Header.Get("Retry-After")}
		}()
	}
	// The waiting ones cannot answer before a write or 40 s: the first
	// sent-allowed answers are the refusals.
	for range sent - allowed {
		select {
		case a := <-answers:
			if a.status != http.StatusServiceUnavailable || a.retryAfter != "1" {
				t.Fatalf("a long poll past the bound: %d, Retry-After %q", a.status, a.retryAfter)
			}
		case <-time.After(hangGuard):
			t.Fatal("long polls past the bound were not refused")
		}
	}
	n := goroutinesSettle()
	t.Logf("goroutines: %d before, %d with %d long polls waiting", base, n, allowed)
	if n > base+10*allowed+50 {
		t.Errorf("%d goroutines with %d long polls waiting (%d before); ceiling %d", n, allowed, base, base+10*allowed+50)
	}
	for range 5 {
		if code := decide(t, srv.Addr); code != http.StatusOK {
			t.Fatalf("a decision while %d long polls wait and --max-requests is 2: %d", allowed, code)
		}
	}
	// A write ends the waits.
	var out, errOut bytes.Buffer
	if code := importexport.Import(context.Background(), []string{"../../../data/demo.json", "--redis-url", redisURL}, &out, &errOut); code != 0 {
		t.Fatalf("import: %d %s", code, errOut.String())
	}
	for range allowed {
		select {
		case a := <-answers:
			if a.status != http.StatusOK && a.status != http.StatusNotModified {
				t.Errorf("a waiting long poll ended with %d", a.status)
			}
		case <-time.After(hangGuard):
			t.Fatal("the waiting long polls did not end")
		}
	}
	wg.Wait()
}

// TestSlowHeadersCutOff: 100 clients that send their headers a byte at a
// time and never finish are cut off by --read-header-timeout (1 s here);
// meanwhile the PDP answers others; once they are gone the goroutines are
// back within 20 of where they were.
func TestSlowHeadersCutOff(t *testing.T) {
	const slow = 100
	srv, _ := limitsPDP(t, Config{ReadHeaderTimeout: time.Second})
	base := goroutinesSettle()
	conns := make([]net.Conn, slow)
	for i := range conns {
		c, err := net.Dial("tcp", srv.Addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		conns[i] = c
	}
	header := []byte("POST /access/v1/evaluation HTTP/1.1\r\nHost: x\r\nX-Slow: " + strings.Repeat("a", 10_000))
	open := slow
	closed := make([]bool, slow)
	buf := make([]byte, 1)
	deadline := time.Now().Add(hangGuard)
	for i := 0; open > 0; i++ {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d slow clients still connected", open, slow)
		}
		for k, c := range conns {
			if closed[k] {
				continue
			}
			_, werr := c.Write(header[i%len(header) : i%len(header)+1])
			_ = c.SetReadDeadline(time.Now().Add(time.Millisecond))
			_, rerr := c.Read(buf)
			var ne net.Error
			if werr != nil || (rerr != nil && !(errors.As(rerr, &ne) && ne.Timeout())) {
				closed[k] = true
				open--
			}
		}
		if i%5 == 0 {
			if code := decide(t, srv.Addr); code != http.StatusOK {
				t.Fatalf("a decision among %d slow clients: %d", open, code)
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	if n := goroutinesSettle(); n > base+20 {
		t.Errorf("%d goroutines after the slow clients were cut off (%d before)", n, base)
	}
}

// TestIdleAndSlowBodyCutOff: a keep-alive connection left idle is closed
// after --idle-timeout, and a request whose body never arrives is ended by
// --read-timeout (1 s each here): neither holds a connection for good.
func TestIdleAndSlowBodyCutOff(t *testing.T) {
	srv, _ := limitsPDP(t, Config{IdleTimeout: time.Second, ReadTimeout: time.Second})
	ends := func(what string, c net.Conn) {
		t.Helper()
		_ = c.SetReadDeadline(time.Now().Add(hangGuard))
		if _, err := io.Copy(io.Discard, c); err != nil {
			t.Fatalf("%s: the server did not close the connection: %v", what, err)
		}
	}
	idle, err := net.Dial("tcp", srv.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	if _, err := io.WriteString(idle, "GET /health HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	ends("an idle keep-alive connection", idle) // reads the answer, then waits for the close
	slow, err := net.Dial("tcp", srv.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	if _, err := io.WriteString(slow, "POST /access/v1/evaluation HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"subject\""); err != nil {
		t.Fatal(err)
	}
	ends("a body that never arrives", slow)
	if code := decide(t, srv.Addr); code != http.StatusOK {
		t.Errorf("a decision after: %d", code)
	}
}

// TestBatchFanOutBounded: a batch fans out onto at most GOMAXPROCS
// goroutines, whatever its size; past 1,000 items it is refused (400,
// field evaluations). Each evaluation also has OPA's short-lived watcher of
// its context (rego's waitForDone), which ends with the evaluation but may
// be seen a moment after: the ceiling, GOMAXPROCS+300 over the count before,
// is far under one goroutine per item (1,000 here).
func TestBatchFanOutBounded(t *testing.T) {
	srv, _ := limitsPDP(t, Config{})
	items := make([]string, 1001)
	for i := range items {
		items[i] = strings.Replace(tomRequest, "u-tom", fmt.Sprintf("u-%d", i), 1)
	}
	batch := func(n int) (int, []byte) {
		resp, err := noKeepAlive.Post("http://"+srv.Addr+"/access/v1/evaluations", "application/json",
			strings.NewReader(`{"evaluations": [`+strings.Join(items[:n], ",")+`]}`))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	base := goroutinesSettle()
	stop := make(chan struct{})
	peak := make(chan int)
	go func() {
		p := 0
		for {
			select {
			case <-stop:
				peak <- p
				return
			default:
			}
			p = max(p, runtime.NumGoroutine())
			time.Sleep(200 * time.Microsecond)
		}
	}()
	code, body := batch(1000)
	close(stop)
	p := <-peak
	if code != http.StatusOK || !bytes.Contains(body, []byte(`"evaluations"`)) {
		t.Fatalf("a batch of 1,000: %d %.200s", code, body)
	}
	t.Logf("goroutines: %d before, at most %d during a batch of 1,000 (GOMAXPROCS %d)", base, p, runtime.GOMAXPROCS(0))
	if ceiling := base + runtime.GOMAXPROCS(0) + 300; p > ceiling {
		t.Errorf("%d goroutines during a batch of 1,000; ceiling %d", p, ceiling)
	}
	if code, body := batch(1001); code != http.StatusBadRequest || !bytes.Contains(body, []byte(`"field":"evaluations"`)) {
		t.Errorf("a batch of 1,001: %d %s", code, body)
	}
}

// TestRequestTimeoutEndsWork: with a Redis that accepts connections and
// never answers, every decision ends at --request-timeout (500 ms here)
// with a deny (unavailable) instead of waiting for good, and what it
// started ends with it: the goroutines return within 20 of the start.
func TestRequestTimeoutEndsWork(t *testing.T) {
	hole, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { hole.Close() })
	var held sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := hole.Accept()
			if err != nil {
				return
			}
			held.Lock()
			conns = append(conns, c) // held open, never answered
			held.Unlock()
		}
	}()
	t.Cleanup(func() {
		held.Lock()
		defer held.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	cfg := &Config{RedisURL: "redis://" + hole.Addr().String(), Auth: "none", DefaultOrg: "demo", Addr: "127.0.0.1:0",
		RequestTimeout: 500 * time.Millisecond}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	srv, err := Start(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	base := goroutinesSettle()
	for i := range 8 {
		resp, body := postDecision(t, srv.Addr) // the client's own timeout is the hang guard
		if !bytes.Contains(body, []byte("unavailable")) {
			t.Fatalf("decision %d with a silent Redis: %d %s", i, resp.StatusCode, body)
		}
	}
	if n := goroutinesSettle(); n > base+20 {
		t.Errorf("%d goroutines after 8 timed-out decisions (%d before)", n, base)
	}
}

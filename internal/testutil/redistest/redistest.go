// Package redistest starts real Redis servers for integration tests.
//
// It owns the servers it starts and everything needed to start them: the
// locally built image verdict-test-redis:<hash> (Debian's redis-server and its
// shared libraries on a scratch base; see docker.go), the containers made from
// it, redis-server child processes, and one reaper process per test binary
// that removes this binary's containers if it dies before its cleanups run
// (Ryuk, testcontainers' own reaper, cannot be pulled here).
//
// The way Redis is started is chosen per call of Start:
//   - VERDICT_TEST_REDIS_URL=redis://... uses that server; nothing is started.
//   - VERDICT_TEST_REDIS=docker or =process forces a mode; failing to start
//     fails the test.
//   - Otherwise Docker is tried first and a redis-server process is the
//     fallback.
//
// Every choice is logged with tb.Logf. Nothing is skipped silently: without
// redis-server the test fails, and only Stop/Restart of a server given by
// VERDICT_TEST_REDIS_URL skip, saying why.
//
// Concurrency: Start and Shared may be called from parallel tests. A Server's
// Addr, URL and Client are safe for concurrent use. Stop and Restart are
// serialised per Server, but a test that stops a server must own it (use
// Start, not Shared): the shared server cannot be stopped.
package redistest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/testcontainers/testcontainers-go"
)

// errNoRedis is reported when no server can be started because redis-server
// is missing: both modes need it (the image is built from the host binary).
var errNoRedis = errors.New("redis-server not found: run scripts/ensure-redis.sh (make test does)")

const (
	modeURL     = "url"
	modeDocker  = "docker"
	modeProcess = "process"
)

// Server is a running Redis server.
type Server struct {
	addr   string // host:port reachable from the test process; fixed for life
	url    string
	mode   string
	shared bool

	mu  sync.Mutex // serialises Stop, Restart and teardown
	ctr testcontainers.Container
	prc *process
}

// Addr returns host:port, reachable from the test process. It stays the same
// across Stop and Restart.
func (s *Server) Addr() string { return s.addr }

// URL returns the server as a redis:// URL (database 0 unless
// VERDICT_TEST_REDIS_URL said otherwise).
func (s *Server) URL() string { return s.url }

// Client returns a new client for the server, closed when tb ends.
func (s *Server) Client(tb testing.TB) *redis.Client {
	tb.Helper()
	opt, err := redis.ParseURL(s.url)
	if err != nil {
		tb.Fatalf("redistest: parse %q: %v", s.url, err)
	}
	c := redis.NewClient(opt)
	tb.Cleanup(func() { _ = c.Close() })
	return c
}

// Stop stops the server so that it no longer answers; its address stays
// reserved for Restart as far as this process can manage (another process may
// still take the port in between, then Restart fails).
func (s *Server) Stop(tb testing.TB) {
	tb.Helper()
	s.checkOwned(tb, "Stop")
	s.mu.Lock()
	defer s.mu.Unlock()
	start := time.Now()
	var err error
	switch s.mode {
	case modeDocker:
		zero := time.Duration(0) // redis exits at once on SIGTERM; no need to wait
		err = s.ctr.Stop(context.Background(), &zero)
	case modeProcess:
		s.prc.kill()
	}
	if err != nil {
		tb.Fatalf("redistest: stop %s: %v", s.addr, err)
	}
	tb.Logf("redis: stopped %s server at %s in %v", s.mode, s.addr, time.Since(start).Round(time.Millisecond))
}

// Restart starts a stopped server again on the same address, with empty data.
func (s *Server) Restart(tb testing.TB) {
	tb.Helper()
	s.checkOwned(tb, "Restart")
	s.mu.Lock()
	defer s.mu.Unlock()
	start := time.Now()
	var err error
	switch s.mode {
	case modeDocker:
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err = s.ctr.Start(ctx); err == nil {
			_, err = waitPing(20*time.Second, nil, s.addr)
		}
	case modeProcess:
		err = s.prc.start()
	}
	if err != nil {
		tb.Fatalf("redistest: restart %s server at %s: %v", s.mode, s.addr, err)
	}
	tb.Logf("redis: restarted %s server at %s in %v", s.mode, s.addr, time.Since(start).Round(time.Millisecond))
}

func (s *Server) checkOwned(tb testing.TB, op string) {
	tb.Helper()
	switch {
	case s.shared:
		tb.Fatalf("redistest: %s on the Shared server would break other tests; use Start", op)
	case s.mode == modeURL:
		// Not silent: the skip and its reason show in the test output.
		tb.Skipf("redistest: %s needs a server the harness started; VERDICT_TEST_REDIS_URL is set", op)
	}
}

// teardown removes whatever was started; used by the cleanup of Start.
func (s *Server) teardown() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch s.mode {
	case modeDocker:
		return testcontainers.TerminateContainer(s.ctr)
	case modeProcess:
		s.prc.kill()
		releasePort(s.prc.port)
	}
	return nil
}

// Start starts a Redis server for tb and tears it down when tb ends. A failure
// to start fails the test.
func Start(tb testing.TB) *Server {
	tb.Helper()
	s, err := newServer(tb.Logf)
	if err != nil {
		tb.Fatalf("%v", err)
	}
	tb.Cleanup(func() {
		if err := s.teardown(); err != nil {
			tb.Errorf("redistest: tear down %s server at %s: %v", s.mode, s.addr, err)
		}
	})
	return s
}

var shared struct {
	once sync.Once
	s    *Server
	err  error
}

// Shared returns the one server of this test binary, started on first use.
// Tests using it must not rely on its contents (call FlushAll first) and must
// not Stop it. testing.TB offers no per-binary cleanup, so the server lives
// until the test binary exits: a process gets SIGKILL when its parent dies
// (Pdeathsig) and a container is removed by the reaper, which takes a second
// or two after the binary is gone.
func Shared(tb testing.TB) *Server {
	tb.Helper()
	shared.once.Do(func() {
		shared.s, shared.err = newServer(tb.Logf)
		if shared.s != nil {
			shared.s.shared = true
		}
	})
	if shared.err != nil {
		tb.Fatalf("redistest: shared server: %v", shared.err)
	}
	return shared.s
}

// newServer picks the mode from the environment and starts a server.
func newServer(logf func(string, ...any)) (*Server, error) {
	if u := os.Getenv("VERDICT_TEST_REDIS_URL"); u != "" {
		opt, err := redis.ParseURL(u)
		if err != nil {
			return nil, fmt.Errorf("redistest: VERDICT_TEST_REDIS_URL: %w", err)
		}
		logf("redis: using VERDICT_TEST_REDIS_URL (%s); nothing started", opt.Addr)
		return &Server{addr: opt.Addr, url: u, mode: modeURL}, nil
	}
	switch m := os.Getenv("VERDICT_TEST_REDIS"); m {
	case modeDocker:
		return startDocker(logf)
	case modeProcess:
		return startProcess(logf)
	case "":
		s, err := startDocker(logf)
		if err == nil {
			return s, nil
		}
		logf("redis: cannot use Docker (%v); falling back to a redis-server process", err)
		return startProcess(logf)
	default:
		return nil, fmt.Errorf("redistest: VERDICT_TEST_REDIS=%q: want docker or process", m)
	}
}

func newServerAt(host string, port int, mode string) *Server {
	addr := net.JoinHostPort(host, fmt.Sprint(port))
	return &Server{addr: addr, url: "redis://" + addr + "/0", mode: mode}
}

// redisServerPath finds the host's redis-server, which both modes need.
func redisServerPath() (string, error) {
	p, err := exec.LookPath("redis-server")
	if err != nil {
		return "", errNoRedis
	}
	return p, nil
}

// Ports handed out by this process: never hand one out twice, so parallel
// tests do not collide and a stopped server's port stays ours until teardown.
var ports struct {
	sync.Mutex
	used map[int]bool
}

// freePort returns a TCP port that is free now. Another process may take it
// before we bind it; callers retry on a bind failure.
func freePort() (int, error) {
	ports.Lock()
	defer ports.Unlock()
	for range 20 {
		l, err := net.Listen("tcp", ":0")
		if err != nil {
			return 0, err
		}
		p := l.Addr().(*net.TCPAddr).Port
		l.Close()
		if !ports.used[p] {
			if ports.used == nil {
				ports.used = map[int]bool{}
			}
			ports.used[p] = true
			return p, nil
		}
	}
	return 0, errors.New("redistest: no free port")
}

func releasePort(p int) {
	ports.Lock()
	defer ports.Unlock()
	delete(ports.used, p)
}

// waitPing waits until one of addrs answers PING with PONG and returns it.
// It gives up after timeout or when exited (if not nil) is closed.
func waitPing(timeout time.Duration, exited <-chan struct{}, addrs ...string) (string, error) {
	deadline := time.Now().Add(timeout)
	var err error
	for time.Now().Before(deadline) {
		for _, a := range addrs {
			if err = ping(a); err == nil {
				return a, nil
			}
		}
		select {
		case <-exited:
			return "", errors.New("server exited")
		case <-time.After(20 * time.Millisecond):
		}
	}
	return "", fmt.Errorf("no PONG from %v within %v: %w", addrs, timeout, err)
}

// ping speaks raw RESP so that waiting needs no client and no retries.
func ping(addr string) error {
	c, err := net.DialTimeout("tcp", addr, 250*time.Millisecond)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(500 * time.Millisecond))
	if _, err := c.Write([]byte("*1\r\n$4\r\nPING\r\n")); err != nil {
		return err
	}
	buf := make([]byte, 64)
	n, err := c.Read(buf)
	if err != nil {
		return err
	}
	if got := string(buf[:n]); got != "+PONG\r\n" {
		return fmt.Errorf("PING answered %q", got)
	}
	return nil
}

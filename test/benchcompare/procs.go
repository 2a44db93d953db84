package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

type binaries struct {
	verdict, opa, opaVersion string
}

// build compiles verdict from this checkout and the stock OPA server from
// the OPA module version go.mod pins (cached in the work directory).
func build(ctx context.Context, work string) (binaries, error) {
	abs, err := filepath.Abs(work)
	if err != nil {
		return binaries{}, err
	}
	b := binaries{verdict: filepath.Join(abs, "verdict")}
	logf("building verdict")
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", b.verdict, "./cmd/verdict").CombinedOutput(); err != nil {
		return b, fmt.Errorf("go build ./cmd/verdict: %v\n%s", err, out)
	}
	v, err := exec.CommandContext(ctx, "go", "list", "-m", "-f", "{{.Version}}", "github.com/open-policy-agent/opa").Output()
	if err != nil {
		return b, fmt.Errorf("go list -m github.com/open-policy-agent/opa: %v", err)
	}
	b.opaVersion = strings.TrimSpace(string(v))
	b.opa = filepath.Join(abs, "opa-"+b.opaVersion)
	if _, err := os.Stat(b.opa); err != nil {
		logf("building stock OPA %s from the module proxy (once; about a minute)", b.opaVersion)
		if out, err := exec.CommandContext(ctx, "go", "build", "-o", b.opa, "github.com/open-policy-agent/opa").CombinedOutput(); err != nil {
			return b, fmt.Errorf("go build github.com/open-policy-agent/opa: %v\n%s", err, out)
		}
	}
	return b, nil
}

// proc is a server started for the run; it is stopped by stop.
type proc struct {
	name string
	cmd  *exec.Cmd
	log  *os.File

	mu      sync.Mutex
	peakRSS int64 // KiB, sampled
	done    chan struct{}
}

func start(name, logPath string, bin string, args ...string) (*proc, error) {
	f, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, log: f, done: make(chan struct{})}
	go p.sample()
	return p, nil
}

// sample reads the process's resident set size every 100 ms: the peak is
// what a container limit would have to allow.
func (p *proc) sample() {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		if kb := rssKiB(p.cmd.Process.Pid); kb > 0 {
			p.mu.Lock()
			p.peakRSS = max(p.peakRSS, kb)
			p.mu.Unlock()
		}
		select {
		case <-p.done:
			return
		case <-t.C:
		}
	}
}

func (p *proc) peakMiB() float64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	// VmHWM, the kernel's own peak, catches what sampling misses (while
	// the process lives; after it exits, the samples are what there is).
	return float64(max(p.peakRSS, statusKiB(p.cmd.Process.Pid, "VmHWM:"))) / 1024
}

func (p *proc) stop() {
	_ = p.cmd.Process.Kill()
	_ = p.cmd.Wait()
	p.stopped()
}

// stopped releases what watches a process that has exited.
func (p *proc) stopped() {
	close(p.done)
	p.log.Close()
}

func rssKiB(pid int) int64 { return statusKiB(pid, "VmRSS:") }

func statusKiB(pid int, field string) int64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), field); ok {
			n, _ := strconv.ParseInt(strings.Fields(rest)[0], 10, 64)
			return n
		}
	}
	return 0
}

// freeAddr returns a loopback address nothing listens on.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// firstAnswer polls url with body until a decision comes back, and returns
// the time since the process started.
func firstAnswer(ctx context.Context, p *proc, since time.Time, url string, body []byte, limit time.Duration) (time.Duration, error) {
	deadline := time.Now().Add(limit)
	client := &http.Client{Timeout: 2 * time.Second}
	for time.Now().Before(deadline) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if resp, err := client.Do(req); err == nil {
			var b bytes.Buffer
			_, _ = b.ReadFrom(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK && bytes.Contains(b.Bytes(), []byte(`"decision"`)) {
				return time.Since(since), nil
			}
		}
		if p.cmd.ProcessState != nil {
			return 0, fmt.Errorf("%s exited: see %s", p.name, p.log.Name())
		}
		time.Sleep(10 * time.Millisecond)
	}
	return 0, fmt.Errorf("%s gave no decision within %v: see %s", p.name, limit, p.log.Name())
}

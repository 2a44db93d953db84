package redistest

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"time"
)

// process is a redis-server child process on a fixed 127.0.0.1 port; start
// may be called again after kill to bring it back on the same port.
type process struct {
	bin  string
	port int
	args []string // more redis-server arguments (cluster mode)

	cmd    *exec.Cmd
	exited chan struct{} // closed once cmd has been waited for
	out    *lockedBuffer // its log, quoted when it fails to start
}

func startProcess(logf func(string, ...any)) (*Server, error) {
	bin, err := redisServerPath()
	if err != nil {
		return nil, err
	}
	t0 := time.Now()
	// A few attempts: another process may take the free port before redis binds it.
	for range 3 {
		var port int
		if port, err = freePort(); err != nil {
			return nil, err
		}
		p := &process{bin: bin, port: port}
		if err = p.start(); err == nil {
			s := newServerAt("127.0.0.1", port, modeProcess)
			s.prc = p
			logf("redis: started redis-server process pid %d on %s in %v",
				p.cmd.Process.Pid, s.addr, time.Since(t0).Round(time.Millisecond))
			return s, nil
		}
		releasePort(port)
	}
	return nil, fmt.Errorf("redistest: start redis-server process: %w", err)
}

func (p *process) start() error {
	p.out = &lockedBuffer{}
	args := append([]string{"--port", strconv.Itoa(p.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"}, p.args...)
	cmd := exec.Command(p.bin, args...)
	// A test that runs SAVE must not drop dump.rdb into the package directory.
	cmd.Dir = os.TempDir()
	cmd.Stdout, cmd.Stderr = p.out, p.out
	cmd.SysProcAttr = dieWithParent() // the Shared server has no cleanup
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	p.cmd, p.exited = cmd, exited
	if _, err := waitPing(10*time.Second, exited, fmt.Sprintf("127.0.0.1:%d", p.port)); err != nil {
		p.kill()
		return fmt.Errorf("%w; redis-server output:\n%s", err, p.out.String())
	}
	return nil
}

// kill stops the process at once (like a crash) and waits until it is gone,
// so the port no longer answers when kill returns. Killing twice is harmless.
func (p *process) kill() {
	if p.cmd == nil {
		return
	}
	_ = p.cmd.Process.Kill()
	<-p.exited
}

// lockedBuffer collects output written by exec's copying goroutine while
// another goroutine may read it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

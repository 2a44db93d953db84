package decisionlog

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/verdict-pdp/verdict/internal/authzen"
	"github.com/verdict-pdp/verdict/internal/decision"
)

// blockedWriter never finishes a write until released: a disk that hangs.
type blockedWriter struct{ release chan struct{} }

func (w blockedWriter) Write(p []byte) (int, error) { <-w.release; return len(p), nil }

// TestQueueBounded (docs/limits.md): with the writer stuck, 20,000
// decisions logged keep at most QueueSize entries queued, drop and count
// the rest, and never block the caller nor start a goroutine each.
func TestQueueBounded(t *testing.T) {
	w := blockedWriter{release: make(chan struct{})}
	l := New(w, nil)
	before := runtime.NumGoroutine()
	r := &authzen.Request{Subject: &authzen.Entity{Type: "user", ID: "u"}, Action: &authzen.Action{Name: "access"},
		Resource: &authzen.Entity{Type: "solution", ID: "s"}}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 20_000 {
			l.Log(context.Background(), "", "verdict/main/decision", r, decision.Decision{}, "rev")
		}
	}()
	select {
	case <-done:
	case <-time.After(2 * time.Minute): // a hang guard: Log must never wait on the writer
		t.Fatal("Log blocked on a stuck writer")
	}
	// Queued: at most QueueSize, plus the one the writer goroutine holds
	// and those the 64 KiB buffer took before the first write (each entry
	// is over 100 bytes: at most 655).
	if d := l.Dropped(); d < 20_000-QueueSize-1-655 {
		t.Errorf("%d dropped of 20,000 with a queue of %d", d, QueueSize)
	}
	if n := runtime.NumGoroutine(); n > before+1 {
		t.Errorf("%d goroutines, %d before", n, before)
	}
	close(w.release)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
}

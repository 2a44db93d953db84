// Package decisionlog writes decision logs in OPA's decision-log JSON shape
// (decision_id, path, input, result, timestamp, the policy revision), one JSON
// object per line, to a file or stdout. Writing is asynchronous through a
// bounded queue so a slow disk never slows a decision; when the queue is full
// entries are dropped and counted (Dropped), never blocked on.
//
// A Logger is safe for concurrent use. Close flushes it.
package decisionlog

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/verdict-pdp/verdict/internal/authzen"
	"github.com/verdict-pdp/verdict/internal/decision"
)

// Entry is one decision, in OPA's decision-log shape.
type Entry struct {
	DecisionID string                    `json:"decision_id"`
	Path       string                    `json:"path"`
	Input      any                       `json:"input"`
	Result     any                       `json:"result"`
	Timestamp  time.Time                 `json:"timestamp"`
	Bundles    map[string]map[string]any `json:"bundles,omitempty"`
	Labels     map[string]string         `json:"labels,omitempty"`
	// TraceID and SpanID name the request's trace when it is recorded, as
	// OPA's decision log does.
	TraceID string `json:"trace_id,omitempty"`
	SpanID  string `json:"span_id,omitempty"`
}

// QueueSize bounds the entries waiting to be written (docs/limits.md): past
// it, entries are dropped and counted.
const QueueSize = 8192

// Logger writes entries.
type Logger struct {
	w       *bufio.Writer
	closer  io.Closer
	q       chan Entry
	done    chan struct{}
	dropped atomic.Uint64
	once    sync.Once
	labels  map[string]string
}

// New starts a logger writing to w (closed by Close when it is an io.Closer).
func New(w io.Writer, labels map[string]string) *Logger {
	l := &Logger{w: bufio.NewWriterSize(w, 64<<10), q: make(chan Entry, QueueSize), done: make(chan struct{}), labels: labels}
	if c, ok := w.(io.Closer); ok {
		l.closer = c
	}
	go l.run()
	return l
}

// Log queues one decision under id (NewID; the same id the answer and the
// trace carry). Tokens never reach it: the API removes subject tokens before
// deciding, and any property named "token" is masked here too.
func (l *Logger) Log(ctx context.Context, id, path string, req *authzen.Request, d decision.Decision, revision string) {
	in := mask(requestMap(req))
	e := Entry{DecisionID: id, Path: path, Input: in, Result: d, Timestamp: time.Now().UTC(),
		Bundles: map[string]map[string]any{"verdict": {"revision": revision}}, Labels: l.labels}
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		e.TraceID, e.SpanID = sc.TraceID().String(), sc.SpanID().String()
	}
	select {
	case l.q <- e:
	default:
		l.dropped.Add(1)
	}
}

// Dropped counts entries dropped because the queue was full.
func (l *Logger) Dropped() uint64 { return l.dropped.Load() }

// Close flushes and stops the logger.
func (l *Logger) Close() error {
	l.once.Do(func() { close(l.q) })
	<-l.done
	if l.closer != nil {
		return l.closer.Close()
	}
	return nil
}

func (l *Logger) run() {
	defer close(l.done)
	enc := json.NewEncoder(l.w)
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case e, ok := <-l.q:
			if !ok {
				_ = l.w.Flush()
				return
			}
			_ = enc.Encode(e)
		case <-tick.C:
			_ = l.w.Flush()
		}
	}
}

func requestMap(r *authzen.Request) map[string]any {
	b, _ := json.Marshal(r)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return m
}

// mask replaces the value of every member named "token" (at any depth).
func mask(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if k == "token" {
				x[k] = "**masked**"
				continue
			}
			x[k] = mask(e)
		}
	case []any:
		for i, e := range x {
			x[i] = mask(e)
		}
	}
	return v
}

// NewID returns a fresh decision id: a random UUID, as OPA makes them.
func NewID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

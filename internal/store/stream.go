package store

import (
	"context"
	_ "embed"
	"strings"
	"sync"

	"github.com/redis/go-redis/v9"
	"github.com/verdict-pdp/verdict/internal/orgdoc"
)

// ImportStats says what ImportOrg imported.
type ImportStats struct {
	Org                     string
	Revision                int64
	Users, Groups, Projects int
}

// ImportOrg replaces an org with the document doc, streamed: each element
// is decoded and validated (doc.Decode), laid out (orgLayout, as PutOrg
// lays it out) and written to the temporary keys at once, in pipelined
// batches, while the next ones are decoded; the commit is PutOrg's (one
// MULTI/EXEC renames the temporary keys over the live ones, with the
// revision, audit and change feed). Memory does not grow with the document
// beyond the validation's sets of user ids and usernames (orgdoc.Stream)
// and the names of the keys written.
//
// What the in-memory layout builds across the document is built in Redis
// instead: the reverse indexes user_groups and dgroups_of, and the lists
// legacy and droles, get one entry appended per membership, grant or
// assignment (appendScript), in document order, into the same temporary
// keys; no other temporary key is used. An invalid document, a Redis
// failure or a changed build (Conflict) leave the live org as it was and
// remove the temporary keys. progress, when not nil, is told the bytes of
// the document read so far.
func (s *Store) ImportOrg(ctx context.Context, doc *orgdoc.Stream, ifRevision int64, a Actor, progress func(done, total int64)) (ImportStats, error) {
	var w *streamWriter
	l := &orgLayout{}
	l.open = func(org string) (Keys, sink, error) {
		k := s.keys(org)
		var err error
		w, err = s.newStreamWriter(ctx, k)
		return k, w, err
	}
	fail := func(err error) (ImportStats, error) {
		if w != nil {
			w.close(true) // wait for the writes under way, then remove what they wrote
			s.unlink(w.tmpKeys())
		}
		return ImportStats{}, err
	}
	if err := doc.Decode(l, progress); err != nil {
		return fail(err)
	}
	if err := w.close(false); err != nil {
		return fail(unavailable(err))
	}
	rev, err := s.commitImport(ctx, staged{k: l.k, tmp: w.tmp, live: w.liveKeys(), seq: l.seq, layout: l}, ifRevision, a)
	if err != nil {
		return fail(err)
	}
	return ImportStats{Org: l.org, Revision: rev, Users: l.users, Groups: l.groups, Projects: l.projects}, nil
}

// appendScript appends to JSON lists held in hash fields: KEYS[1] is the
// hash, ARGV field, element, field, element... A missing field becomes
// [element]; an existing list "[...]" becomes "[...,element]".
//
//go:embed append.lua
var appendSrc string

var appendScript = redis.NewScript(appendSrc)

// Batching of a streamed import: at most importBatch fields per command, and
// a pipeline is sent once it holds flushFields fields (a few MB). While one
// pipeline is written, the next is filled; at most pipelinesInFlight wait.
const (
	flushFields       = 8 * importBatch
	pipelinesInFlight = 1
)

// streamWriter is the sink of ImportOrg: it writes an org's layout to
// temporary keys as it comes, in pipelined batches executed by a goroutine
// of its own, so that decoding and writing overlap.
type streamWriter struct {
	ctx context.Context
	k   Keys
	tmp string

	tmpOf map[string]string // live key -> its temporary key, for every key written
	open  map[string]*batch // temporary key -> the batch being filled
	n     int               // fields in open batches and pipe
	pipe  redis.Pipeliner
	rdb   redis.UniversalClient
	sha   string

	work   chan redis.Pipeliner
	done   chan struct{}
	closed bool
	mu     sync.Mutex
	fail   error
}

// Kinds of batches.
const (
	batchHSet = iota
	batchZAdd
	batchAppend
)

type batch struct {
	kind int
	n    int
	args []any
}

func (s *Store) newStreamWriter(ctx context.Context, k Keys) (*streamWriter, error) {
	sha, err := appendScript.Load(ctx, s.rdb).Result()
	if err != nil {
		return nil, unavailable(err)
	}
	w := &streamWriter{
		ctx: ctx, k: k, tmp: k.p + "tmp:" + token() + ":",
		tmpOf: map[string]string{}, open: map[string]*batch{},
		rdb: s.rdb, pipe: s.rdb.Pipeline(), sha: sha,
		work: make(chan redis.Pipeliner, pipelinesInFlight), done: make(chan struct{}),
	}
	go w.write()
	return w, nil
}

// write executes the pipelines in order; after a failure it only drains.
func (w *streamWriter) write() {
	defer close(w.done)
	for p := range w.work {
		if w.err() != nil {
			continue
		}
		if _, err := p.Exec(w.ctx); err != nil {
			w.mu.Lock()
			w.fail = err
			w.mu.Unlock()
		}
	}
}

func (w *streamWriter) err() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.fail
}

func (w *streamWriter) hset(key, field, value string) { w.add(batchHSet, key, field, value) }
func (w *streamWriter) zadd(key, member string, score int64) {
	w.add(batchZAdd, key, score, member)
}
func (w *streamWriter) appendJSON(key, field, elem string) { w.add(batchAppend, key, field, elem) }

// add adds one field (two arguments) to the batch of key's temporary key.
// Batches of one key are written in the order they are filled, so appends
// and overwrites land in document order.
func (w *streamWriter) add(kind int, key string, a, b any) {
	t, ok := w.tmpOf[key]
	if !ok {
		t = w.tmp + strings.TrimPrefix(key, w.k.p)
		w.tmpOf[key] = t
	}
	bt := w.open[t]
	if bt != nil && bt.kind != kind {
		w.enqueue(t, bt)
		bt = nil
	}
	if bt == nil {
		bt = &batch{kind: kind, args: make([]any, 0, 16)}
		w.open[t] = bt
	}
	bt.args = append(bt.args, a, b)
	bt.n++
	w.n++
	if bt.n >= importBatch {
		w.enqueue(t, bt)
	}
	if w.n >= flushFields {
		w.flush()
	}
}

// enqueue moves key t's batch into the pipeline.
func (w *streamWriter) enqueue(t string, bt *batch) {
	delete(w.open, t)
	switch bt.kind {
	case batchHSet:
		w.pipe.Do(w.ctx, append([]any{"hset", t}, bt.args...)...)
	case batchZAdd:
		w.pipe.Do(w.ctx, append([]any{"zadd", t}, bt.args...)...)
	case batchAppend:
		w.pipe.EvalSha(w.ctx, w.sha, []string{t}, bt.args...)
	}
}

// flush sends everything buffered to the writing goroutine.
func (w *streamWriter) flush() {
	for t, bt := range w.open {
		w.enqueue(t, bt)
	}
	if w.pipe.Len() > 0 {
		w.work <- w.pipe
		w.pipe = w.rdb.Pipeline()
	}
	w.n = 0
}

// close writes what is left (unless abort) and waits for every write; it
// returns the first failure. Only the first call does anything.
func (w *streamWriter) close(abort bool) error {
	if !w.closed {
		w.closed = true
		if !abort && w.err() == nil {
			w.flush()
		}
		close(w.work)
		<-w.done
	}
	return w.err()
}

// liveKeys are the live keys the temporary keys written stand for.
func (w *streamWriter) liveKeys() []string {
	out := make([]string, 0, len(w.tmpOf))
	for k := range w.tmpOf {
		out = append(out, k)
	}
	return out
}

// tmpKeys are the temporary keys written (or being written).
func (w *streamWriter) tmpKeys() []string {
	out := make([]string, 0, len(w.tmpOf))
	for _, t := range w.tmpOf {
		out = append(out, t)
	}
	return out
}

package store

// Admin writes (admin_*.go) all have one shape, implemented here by write:
//
//  1. WATCH the org's `rev` and `keys` index. Every write of an org — admin
//     write or whole-org import — sets `rev` inside its own MULTI, so a
//     transaction whose reads were overtaken by any other write of the org
//     fails at EXEC (redis.TxFailedErr) and is retried against the new state.
//     Watching the revision instead of every key read keeps the watch list
//     small and still serializes the org's writers.
//  2. Read what the write needs through the watched connection (txn), check
//     every rule and the caller's If-Match there. A refused write returns
//     before MULTI: nothing changes.
//  3. Queue the changes, then EXEC them in one MULTI together with the
//     revision bump, the audit entry and the change-feed entry (record), so a
//     write, its audit and its feed entry land together or not at all.

import (
	"context"
	"errors"
	"sort"

	"github.com/redis/go-redis/v9"
	"github.com/verdict-pdp/verdict/internal/verr"
)

// watched runs txf under WATCH of the org's revision and key index: a
// concurrent write to the org makes it retry against the new state, up to
// adminRetries times. Errors come back as verr errors (Unavailable when Redis
// failed, Conflict when the retries ran out).
func (s *Store) watched(ctx context.Context, k keys, org string, txf func(*redis.Tx) error) error {
	for range adminRetries {
		err := s.rdb.Watch(ctx, txf, k.rev(), k.index())
		if errors.Is(err, redis.TxFailedErr) {
			continue
		}
		if err != nil {
			var ve *verr.Error
			if errors.As(err, &ve) {
				return ve
			}
			return unavailable(err)
		}
		return nil
	}
	return verr.New(verr.Conflict, "", "org %s is being written concurrently: retry", org)
}

// adminRetries bounds how often a write is retried after a concurrent write
// of the same org; past that the caller gets a Conflict and may retry.
const adminRetries = 10

// outcome is what a write reports for its audit and change-feed entries.
type outcome struct {
	action, target string
	before, after  any
	change         Change
}

// txn is one admin write in progress: reads go through the watched
// connection; writes are queued and run at EXEC.
type txn struct {
	ctx      context.Context
	tx       *redis.Tx
	k        keys
	org      string
	rev      int64     // revision the write starts from
	settings orgRecord // environments and workspaces of the org

	seq     int64 // last position given (valid once seqRead)
	seqRead bool
	seqUsed bool

	ops     []func(redis.Pipeliner)
	touched map[string]bool // keys written: added to the `keys` index
	dropped map[string]bool // keys deleted: removed from the index

	projects map[string]*projectEntry // projects read so far, by id

	// pendingDroles is the droles hash as a txn's earlier steps left it
	// (set by dropDesignerRoles), for the steps that then append to it.
	pendingDroles map[string]string
}

// projectEntry is a project record read in a txn; dirty ones are written
// back at EXEC.
type projectEntry struct {
	rec   projectRecord
	seq   int64
	dirty bool
}

// write runs fn as one atomic admin write of org by a (see the top of this
// file) and returns the revision it produced.
func (s *Store) write(ctx context.Context, org string, a Actor, fn func(t *txn) (*outcome, error)) (int64, error) {
	k := s.keys(org)
	var rev int64
	txf := func(tx *redis.Tx) error {
		t := &txn{ctx: ctx, tx: tx, k: k, org: org, touched: map[string]bool{}, dropped: map[string]bool{}, projects: map[string]*projectEntry{}}
		if err := t.load(); err != nil {
			return err
		}
		out, err := fn(t)
		if err != nil {
			return err
		}
		rev = t.rev + 1
		_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			t.flush(p)
			ch := out.change
			ch.Org = org
			if ch.Kind == "" {
				ch.Kind = out.action
			}
			s.record(p, k, rev, a, out.action, out.target, out.before, out.after, ch)
			return nil
		})
		return err
	}
	if err := s.watched(ctx, k, org, txf); err != nil {
		return 0, err
	}
	return rev, nil
}

// load reads the revision and the org settings; an org that was never
// imported (or was deleted) has no settings.
func (t *txn) load() error {
	var revCmd *redis.StringCmd
	var setCmd *redis.StringCmd
	_, err := t.tx.Pipelined(t.ctx, func(p redis.Pipeliner) error {
		revCmd = p.Get(t.ctx, t.k.rev())
		setCmd = p.HGet(t.ctx, t.k.org(), "settings")
		return nil
	})
	if err != nil && err != redis.Nil {
		return err
	}
	t.rev, _ = revCmd.Int64()
	raw, err := setCmd.Result()
	if err == redis.Nil {
		return verr.New(verr.NotFound, "org", "no org %q", t.org)
	}
	if err != nil {
		return err
	}
	return jsonUnmarshal(raw, &t.settings)
}

// next gives the next record position of the org.
func (t *txn) next() (int64, error) {
	if !t.seqRead {
		n, err := t.tx.Get(t.ctx, t.k.seq()).Int64()
		if err != nil && err != redis.Nil {
			return 0, err
		}
		t.seq, t.seqRead = n, true
	}
	t.seq++
	t.seqUsed = true
	return t.seq, nil
}

// Queued writes. Keys written join the org's `keys` index (what an export
// reads and an import or org deletion replaces).

func (t *txn) hset(key, field, value string) {
	t.touch(key)
	t.ops = append(t.ops, func(p redis.Pipeliner) { p.HSet(t.ctx, key, field, value) })
}

func (t *txn) hdel(key string, fields ...string) {
	if len(fields) == 0 {
		return
	}
	t.ops = append(t.ops, func(p redis.Pipeliner) { p.HDel(t.ctx, key, fields...) })
}

func (t *txn) zadd(key, member string, score int64) {
	t.touch(key)
	t.ops = append(t.ops, func(p redis.Pipeliner) { p.ZAdd(t.ctx, key, redis.Z{Score: float64(score), Member: member}) })
}

func (t *txn) zrem(key string, members ...string) {
	if len(members) == 0 {
		return
	}
	t.ops = append(t.ops, func(p redis.Pipeliner) { p.ZRem(t.ctx, key, toAny(members)...) })
}

// del deletes a whole key and drops it from the index.
func (t *txn) del(key string) {
	delete(t.touched, key)
	t.dropped[key] = true
	t.ops = append(t.ops, func(p redis.Pipeliner) { p.Del(t.ctx, key) })
}

func (t *txn) touch(key string) {
	delete(t.dropped, key)
	t.touched[key] = true
}

// flush queues, inside the MULTI, every write of the txn, the dirty
// project records, the index updates and the position counter.
func (t *txn) flush(p redis.Pipeliner) {
	for _, pe := range t.sortedProjects() {
		if pe.dirty {
			t.hset(t.k.projects(), pe.rec.ID, withSeq(pe.rec, pe.seq))
		}
	}
	for _, op := range t.ops {
		op(p)
	}
	if len(t.touched) > 0 {
		p.SAdd(t.ctx, t.k.index(), toAny(sortedSet(t.touched))...)
	}
	if len(t.dropped) > 0 {
		p.SRem(t.ctx, t.k.index(), toAny(sortedSet(t.dropped))...)
	}
	if t.seqUsed {
		p.Set(t.ctx, t.k.seq(), t.seq, 0)
	}
}

func (t *txn) sortedProjects() []*projectEntry {
	out := make([]*projectEntry, 0, len(t.projects))
	for _, pe := range t.projects {
		if pe != nil {
			out = append(out, pe)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].seq < out[j].seq })
	return out
}

func sortedSet(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Reads through the watched connection.

// hget returns a hash field and whether it exists.
func (t *txn) hget(key, field string) (string, bool, error) {
	v, err := t.tx.HGet(t.ctx, key, field).Result()
	if err == redis.Nil {
		return "", false, nil
	}
	return v, err == nil, err
}

func (t *txn) hexists(key, field string) (bool, error) {
	return t.tx.HExists(t.ctx, key, field).Result()
}

func (t *txn) hgetall(key string) (map[string]string, error) {
	return t.tx.HGetAll(t.ctx, key).Result()
}

// getJSON reads a hash field into v; NotFound (at field errField, naming
// what) when absent. It returns the record's position.
func (t *txn) getJSON(key, field string, v any, errField, what string) (int64, error) {
	raw, ok, err := t.hget(key, field)
	if err != nil {
		return 0, err
	}
	if !ok {
		return 0, verr.New(verr.NotFound, errField, "no %s %q", what, field)
	}
	if err := jsonUnmarshal(raw, v); err != nil {
		return 0, err
	}
	return fastSeq(raw), nil
}

// stringList reads a hash field holding a JSON list of strings.
func (t *txn) stringList(key, field string) ([]string, error) {
	raw, ok, err := t.hget(key, field)
	if err != nil || !ok {
		return nil, err
	}
	var out []string
	return out, jsonUnmarshal(raw, &out)
}

// setStringList writes a JSON list of strings, deleting the field when empty.
func (t *txn) setStringList(key, field string, list []string) {
	if len(list) == 0 {
		t.hdel(key, field)
		return
	}
	t.hset(key, field, mustJSON(list))
}

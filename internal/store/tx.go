package store

// Writes of an org other than a whole-org import (the admin API's, made by
// package admin/domain) all have one shape, implemented here by Write:
//
//  1. WATCH the org's `rev` and `keys` index. Every write of an org — admin
//     write or whole-org import — sets `rev` inside its own MULTI, so a
//     transaction whose reads were overtaken by any other write of the org
//     fails at EXEC (redis.TxFailedErr) and is retried against the new state.
//     Watching the revision instead of every key read keeps the watch list
//     small and still serializes the org's writers.
//  2. Read what the write needs through the watched connection (Tx's reads),
//     check every rule and the caller's If-Match there. A refused write
//     returns before MULTI: nothing changes.
//  3. Queue the changes (Tx's writes), then EXEC them in one MULTI together
//     with the revision bump, the audit entry and the change-feed entry
//     (record), so a write, its audit and its feed entry land together or
//     not at all.
//
// The store knows nothing of the rules: it gives the keys (Keys), the
// record encoding (WithSeq, SeqOf, Decode) and this transaction.

import (
	"context"
	"errors"
	"sort"

	"github.com/redis/go-redis/v9"
	"github.com/verdict-pdp/verdict/internal/verr"
)

// watched runs txf under WATCH of the org's revision and key index: a
// concurrent write to the org makes it retry against the new state, up to
// writeRetries times. Errors come back as verr errors (Unavailable when Redis
// failed, Conflict when the retries ran out).
func (s *Store) watched(ctx context.Context, k Keys, org string, txf func(*redis.Tx) error) error {
	for range writeRetries {
		err := s.rdb.Watch(ctx, txf, k.Rev(), k.Index())
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

// writeRetries bounds how often a write is retried after a concurrent write
// of the same org; past that the caller gets a Conflict and may retry.
const writeRetries = 10

// Outcome is what a write reports for its audit entry (Action, Target,
// Before, After) and its change-feed entry (Change; its Org and Revision
// are filled in, and its Kind defaults to Action).
type Outcome struct {
	Action, Target string
	Before, After  any
	Change         Change
}

// Tx is one write of an org in progress (see Write). Reads go through the
// watched connection; writes are queued and run at EXEC, in the order they
// were queued. A Tx belongs to the goroutine running Write's fn and is not
// valid after fn returns.
type Tx struct {
	ctx      context.Context
	tx       *redis.Tx
	k        Keys
	org      string
	rev      int64       // revision the write starts from
	settings OrgSettings // environments and workspaces of the org

	seq     int64 // last position given (valid once seqRead)
	seqRead bool
	seqUsed bool

	ops     []func(redis.Pipeliner)
	touched map[string]bool // keys written: added to the `keys` index
	dropped map[string]bool // keys deleted: removed from the index
}

// Write runs fn as one atomic write of org by a (see the top of this file)
// and returns the revision it produced. fn may run more than once (after a
// concurrent write of the org): it must keep its state in the Tx or start
// afresh on each call. An error of fn is returned as is (a *verr.Error) or
// as Unavailable; nothing is written then. An org that does not exist is
// NotFound at "org".
func (s *Store) Write(ctx context.Context, org string, a Actor, fn func(t *Tx) (*Outcome, error)) (int64, error) {
	k := s.keys(org)
	var rev int64
	txf := func(tx *redis.Tx) error {
		t := &Tx{ctx: ctx, tx: tx, k: k, org: org, touched: map[string]bool{}, dropped: map[string]bool{}}
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
			ch := out.Change
			ch.Org = org
			if ch.Kind == "" {
				ch.Kind = out.Action
			}
			s.record(p, k, rev, a, out.Action, out.Target, out.Before, out.After, ch)
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
func (t *Tx) load() error {
	var revCmd *redis.StringCmd
	var setCmd *redis.StringCmd
	_, err := t.tx.Pipelined(t.ctx, func(p redis.Pipeliner) error {
		revCmd = p.Get(t.ctx, t.k.Rev())
		setCmd = p.HGet(t.ctx, t.k.Org(), "settings")
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
	return Decode(raw, &t.settings)
}

// Org is the org written.
func (t *Tx) Org() string { return t.org }

// Keys are the org's keys.
func (t *Tx) Keys() Keys { return t.k }

// Settings are the org's environments and workspaces.
func (t *Tx) Settings() OrgSettings { return t.settings }

// Next gives the next record position of the org: positions are unique in
// the org and never reused.
func (t *Tx) Next() (int64, error) {
	if !t.seqRead {
		n, err := t.tx.Get(t.ctx, t.k.Seq()).Int64()
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

// HSet queues setting a hash field.
func (t *Tx) HSet(key, field, value string) {
	t.touch(key)
	t.ops = append(t.ops, func(p redis.Pipeliner) { p.HSet(t.ctx, key, field, value) })
}

// HDel queues deleting hash fields.
func (t *Tx) HDel(key string, fields ...string) {
	if len(fields) == 0 {
		return
	}
	t.ops = append(t.ops, func(p redis.Pipeliner) { p.HDel(t.ctx, key, fields...) })
}

// ZAdd queues adding a member to a sorted set with a position as its score.
func (t *Tx) ZAdd(key, member string, score int64) {
	t.touch(key)
	t.ops = append(t.ops, func(p redis.Pipeliner) { p.ZAdd(t.ctx, key, redis.Z{Score: float64(score), Member: member}) })
}

// ZRem queues removing members from a sorted set.
func (t *Tx) ZRem(key string, members ...string) {
	if len(members) == 0 {
		return
	}
	t.ops = append(t.ops, func(p redis.Pipeliner) { p.ZRem(t.ctx, key, toAny(members)...) })
}

// Del queues deleting a whole key, which leaves the index.
func (t *Tx) Del(key string) {
	delete(t.touched, key)
	t.dropped[key] = true
	t.ops = append(t.ops, func(p redis.Pipeliner) { p.Del(t.ctx, key) })
}

// SetStringList queues writing a JSON list of strings, deleting the field
// when the list is empty.
func (t *Tx) SetStringList(key, field string, list []string) {
	if len(list) == 0 {
		t.HDel(key, field)
		return
	}
	t.HSet(key, field, MustJSON(list))
}

func (t *Tx) touch(key string) {
	delete(t.dropped, key)
	t.touched[key] = true
}

// flush queues, inside the MULTI, every write of the Tx, the index updates
// and the position counter.
func (t *Tx) flush(p redis.Pipeliner) {
	for _, op := range t.ops {
		op(p)
	}
	if len(t.touched) > 0 {
		p.SAdd(t.ctx, t.k.Index(), toAny(sortedSet(t.touched))...)
	}
	if len(t.dropped) > 0 {
		p.SRem(t.ctx, t.k.Index(), toAny(sortedSet(t.dropped))...)
	}
	if t.seqUsed {
		p.Set(t.ctx, t.k.Seq(), t.seq, 0)
	}
}

func sortedSet(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

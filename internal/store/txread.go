package store

import (
	"github.com/redis/go-redis/v9"
	"github.com/verdict-pdp/verdict/internal/verr"
)

// Reads of a Tx, through the watched connection: what they return is what
// the write's EXEC will apply to, or the write is retried. Errors of Redis
// come back as they are; Write turns them into Unavailable.

// Member is a member of a membership sorted set with its position.
type Member struct {
	ID  string
	Seq int64
}

// HGet returns a hash field and whether it exists.
func (t *Tx) HGet(key, field string) (string, bool, error) {
	v, err := t.tx.HGet(t.ctx, key, field).Result()
	if err == redis.Nil {
		return "", false, nil
	}
	return v, err == nil, err
}

// HExists says whether a hash field exists.
func (t *Tx) HExists(key, field string) (bool, error) {
	return t.tx.HExists(t.ctx, key, field).Result()
}

// HGetAll reads a whole hash ({} when absent).
func (t *Tx) HGetAll(key string) (map[string]string, error) {
	return t.tx.HGetAll(t.ctx, key).Result()
}

// HKeys reads the fields of a hash.
func (t *Tx) HKeys(key string) ([]string, error) {
	return t.tx.HKeys(t.ctx, key).Result()
}

// ZRange reads the members of a sorted set in position order.
func (t *Tx) ZRange(key string) ([]string, error) {
	return t.tx.ZRange(t.ctx, key, 0, -1).Result()
}

// ZRangeWithSeq reads the members of a sorted set with their positions.
func (t *Tx) ZRangeWithSeq(key string) ([]Member, error) {
	zs, err := t.tx.ZRangeWithScores(t.ctx, key, 0, -1).Result()
	if err != nil {
		return nil, err
	}
	return members(zs), nil
}

func members(zs []redis.Z) []Member {
	out := make([]Member, len(zs))
	for i, z := range zs {
		out[i] = Member{ID: z.Member.(string), Seq: int64(z.Score)}
	}
	return out
}

// GetRecord reads the record in a hash field into v and returns its
// position; an absent field is NotFound at errField, saying `no <what>
// "<field>"`.
func (t *Tx) GetRecord(key, field string, v any, errField, what string) (int64, error) {
	raw, ok, err := t.HGet(key, field)
	if err != nil {
		return 0, err
	}
	if !ok {
		return 0, verr.New(verr.NotFound, errField, "no %s %q", what, field)
	}
	if err := Decode(raw, v); err != nil {
		return 0, err
	}
	return SeqOf(raw), nil
}

// StringList reads a hash field holding a JSON list of strings (nil when
// absent).
func (t *Tx) StringList(key, field string) ([]string, error) {
	raw, ok, err := t.HGet(key, field)
	if err != nil || !ok {
		return nil, err
	}
	var out []string
	return out, Decode(raw, &out)
}

// Batch is reads of a Tx sent together, in one round trip: queue them, Run
// the batch, then read the replies.
type Batch struct {
	t *Tx
	p redis.Pipeliner
}

// Batch starts a batch of reads.
func (t *Tx) Batch() *Batch { return &Batch{t: t, p: t.tx.Pipeline()} }

// BoolReply is the answer of a batched HExists, valid after Run.
type BoolReply struct{ c *redis.BoolCmd }

// Val is the answer (false when the read failed).
func (r BoolReply) Val() bool { return r.c.Val() }

// FieldReply is the answer of a batched HGet, valid after Run.
type FieldReply struct{ c *redis.StringCmd }

// Val is the field and whether it was read (false when absent).
func (r FieldReply) Val() (string, bool) {
	v, err := r.c.Result()
	return v, err == nil
}

// HashReply is the answer of a batched HGetAll, valid after Run.
type HashReply struct{ c *redis.MapStringStringCmd }

// Val is the hash ({} when absent).
func (r HashReply) Val() map[string]string { return r.c.Val() }

// HExists queues an HExists.
func (b *Batch) HExists(key, field string) BoolReply {
	return BoolReply{b.p.HExists(b.t.ctx, key, field)}
}

// HGet queues an HGet.
func (b *Batch) HGet(key, field string) FieldReply {
	return FieldReply{b.p.HGet(b.t.ctx, key, field)}
}

// HGetAll queues an HGetAll.
func (b *Batch) HGetAll(key string) HashReply {
	return HashReply{b.p.HGetAll(b.t.ctx, key)}
}

// Run sends the batch. Absent fields are no failure.
func (b *Batch) Run() error {
	if _, err := b.p.Exec(b.t.ctx); err != nil && err != redis.Nil {
		return err
	}
	return nil
}

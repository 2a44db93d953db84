package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"sort"
	"strings"

	"github.com/redis/go-redis/v9"
	"github.com/verdict-pdp/verdict/internal/orgdoc"
	"github.com/verdict-pdp/verdict/internal/verr"
)

// importBatch bounds how many fields one pipelined write carries.
const importBatch = 1000

// PutOrg replaces an org with a validated document, atomically for readers:
// the new facts are written under temporary keys first (in batches), then one
// MULTI/EXEC renames them over the live keys, deletes the keys the new
// document no longer has, bumps the revision and appends the audit and change
// feed entries. Readers see the old org or the new one, never a mix.
//
// ifRevision, when >= 0, must equal the current revision (If-Match), else
// PreconditionFailed. Builds are immutable: a build id that exists with a
// different manifest is refused (Conflict) and nothing changes.
func (s *Store) PutOrg(ctx context.Context, o *orgdoc.Org, ifRevision int64, a Actor) (int64, error) {
	return s.PutOrgProgress(ctx, o, ifRevision, a, nil)
}

// PutOrgProgress is PutOrg reporting progress (fields written of total)
// after each batch, for command-line imports of large documents.
func (s *Store) PutOrgProgress(ctx context.Context, o *orgdoc.Org, ifRevision int64, a Actor, progress func(done, total int)) (int64, error) {
	k := s.keys(o.Org)
	c := layout(k, o)
	total, done := 0, 0
	for _, h := range c.hashes {
		total += len(h)
	}
	for _, z := range c.zsets {
		total += len(z)
	}
	tmp := k.p + "tmp:" + token() + ":"
	var tmpKeys []string
	defer func() {
		// On any failure the temporary keys go; after success they were renamed.
		if len(tmpKeys) > 0 {
			s.rdb.Unlink(context.Background(), tmpKeys...)
		}
	}()
	pipe := s.rdb.Pipeline()
	n := 0
	pending := 0
	flush := func() error {
		if n == 0 {
			return nil
		}
		_, err := pipe.Exec(ctx)
		n = 0
		done += pending
		pending = 0
		if progress != nil && err == nil {
			progress(done, total)
		}
		return err
	}
	live := make([]string, 0, len(c.hashes)+len(c.zsets))
	for key, h := range c.hashes {
		t := tmp + strings.TrimPrefix(key, k.p)
		tmpKeys = append(tmpKeys, t)
		live = append(live, key)
		args := make([]any, 0, 2*importBatch)
		for f, v := range h {
			args = append(args, f, v)
			pending++
			if len(args) == 2*importBatch {
				pipe.HSet(ctx, t, args...)
				args = args[:0]
				if n++; n >= 8 {
					if err := flush(); err != nil {
						return 0, unavailable(err)
					}
				}
			}
		}
		if len(args) > 0 {
			pipe.HSet(ctx, t, args...)
			n++
		}
	}
	for key, z := range c.zsets {
		t := tmp + strings.TrimPrefix(key, k.p)
		tmpKeys = append(tmpKeys, t)
		live = append(live, key)
		members := make([]redis.Z, 0, len(z))
		for m, score := range z {
			members = append(members, redis.Z{Score: score, Member: m})
		}
		for i := 0; i < len(members); i += importBatch {
			pipe.ZAdd(ctx, t, members[i:min(i+importBatch, len(members))]...)
			pending += min(importBatch, len(members)-i)
			n++
		}
	}
	if err := flush(); err != nil {
		return 0, unavailable(err)
	}
	sort.Strings(live)

	var rev int64
	txf := func(tx *redis.Tx) error {
		cur, err := tx.Get(ctx, k.rev()).Int64()
		if err != nil && err != redis.Nil {
			return err
		}
		if ifRevision >= 0 && cur != ifRevision {
			return verr.New(verr.PreconditionFailed, "If-Match", "org %s is at revision %d, not %d", o.Org, cur, ifRevision)
		}
		if err := s.checkBuildsUnchanged(ctx, tx, k, o); err != nil {
			return err
		}
		old, err := tx.SMembers(ctx, k.index()).Result()
		if err != nil {
			return err
		}
		rev = cur + 1
		keep := map[string]bool{}
		for _, key := range live {
			keep[key] = true
		}
		_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			for _, key := range old {
				if !keep[key] {
					p.Unlink(ctx, key)
				}
			}
			for _, key := range live {
				p.Rename(ctx, tmp+strings.TrimPrefix(key, k.p), key)
			}
			p.Del(ctx, k.index())
			if len(live) > 0 {
				p.SAdd(ctx, k.index(), toAny(live)...)
			}
			p.Set(ctx, k.seq(), c.seq, 0)
			s.record(p, k, rev, a, "org.replaced", "org/"+o.Org,
				map[string]any{"revision": cur}, map[string]any{"revision": rev, "users": len(o.Users), "groups": len(o.Groups), "projects": len(o.Projects)},
				Change{Org: o.Org, Kind: "org.replaced", All: true})
			return nil
		})
		return err
	}
	// The revision and the index are watched: a concurrent write to the org
	// makes this transaction retry against the new state.
	for range 10 {
		err := s.rdb.Watch(ctx, txf, k.rev(), k.index())
		if errors.Is(err, redis.TxFailedErr) {
			continue
		}
		if err != nil {
			var ve *verr.Error
			if errors.As(err, &ve) {
				return 0, ve
			}
			return 0, unavailable(err)
		}
		tmpKeys = nil
		s.rdb.SAdd(ctx, s.orgsKey(), o.Org)
		return rev, nil
	}
	return 0, verr.New(verr.Conflict, "", "org %s is being written concurrently: retry", o.Org)
}

// checkBuildsUnchanged refuses a document that changes an existing build.
func (s *Store) checkBuildsUnchanged(ctx context.Context, tx *redis.Tx, k keys, o *orgdoc.Org) error {
	for pi, p := range o.Projects {
		if len(p.Builds) == 0 {
			continue
		}
		ids := make([]string, len(p.Builds))
		for i, b := range p.Builds {
			ids[i] = b.ID
		}
		cur, err := tx.HMGet(ctx, k.builds(p.ID), ids...).Result()
		if err != nil {
			return err
		}
		for i, v := range cur {
			raw, ok := v.(string)
			if !ok {
				continue
			}
			if !sameBuild(raw, p.Builds[i]) {
				return verr.New(verr.Conflict, pathf("projects[%d].builds[%d]", pi, i),
					"build %s of project %s exists with a different manifest: builds are immutable", p.Builds[i].ID, p.ID)
			}
		}
	}
	return nil
}

func toAny(xs []string) []any {
	out := make([]any, len(xs))
	for i, x := range xs {
		out[i] = x
	}
	return out
}

func token() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

package store

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"slices"
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
// after each batch. The document is laid out in memory first; ImportOrg
// streams a document from a file instead.
func (s *Store) PutOrgProgress(ctx context.Context, o *orgdoc.Org, ifRevision int64, a Actor, progress func(done, total int)) (int64, error) {
	return s.putOrg(ctx, o, ifRevision, a, progress, PutOptions{})
}

// PutOptions change what PutOrgWith records with the import.
type PutOptions struct {
	// Action of the audit entry and change-feed kind (default
	// "org.replaced"), e.g. "org.migrated".
	Action string
	// Audit members added to the audit entry's "after" (a report summary).
	Audit map[string]any
	// Apart replaces hashes kept apart from the index (Keys.Uninvited,
	// Keys.Justifications) in the import's own transaction: key -> field ->
	// value; an empty map deletes the hash.
	Apart map[string]map[string]string
}

// PutOrgWith is PutOrg recording more in the same transaction (opts).
func (s *Store) PutOrgWith(ctx context.Context, o *orgdoc.Org, ifRevision int64, a Actor, opts PutOptions) (int64, error) {
	k := s.keys(o.Org)
	for key := range opts.Apart {
		if !slices.Contains(k.apartKeys(), key) {
			return 0, verr.New(verr.Internal, "", "%s is not a key kept apart of org %s", key, o.Org)
		}
	}
	return s.putOrg(ctx, o, ifRevision, a, nil, opts)
}

func (s *Store) putOrg(ctx context.Context, o *orgdoc.Org, ifRevision int64, a Actor, progress func(done, total int), opts PutOptions) (int64, error) {
	k := s.keys(o.Org)
	c, l := layout(k, o)
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
		s.unlink(tmpKeys)
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
	rev, err := s.commitImport(ctx, staged{k: k, tmp: tmp, live: live, seq: c.seq, layout: l, opts: opts}, ifRevision, a)
	if err == nil {
		tmpKeys = nil
	}
	return rev, err
}

// staged is an org written under temporary keys, ready to replace the live
// one.
type staged struct {
	k      Keys
	tmp    string   // prefix of the temporary keys: tmp + (live key without k.p)
	live   []string // the live keys the temporary ones become
	seq    int64    // the last position given
	layout *orgLayout
	opts   PutOptions
}

// commitImport renames the staged keys over the live ones in one MULTI/EXEC,
// unlinks the live keys the new org no longer has, rewrites the key index,
// bumps the revision and appends the audit and change feed entries. The
// caller removes the temporary keys unless it succeeds.
func (s *Store) commitImport(ctx context.Context, st staged, ifRevision int64, a Actor) (int64, error) {
	k, org, l := st.k, st.layout.org, st.layout
	live := slices.Clone(st.live)
	sort.Strings(live)
	var rev int64
	txf := func(tx *redis.Tx) error {
		cur, err := tx.Get(ctx, k.Rev()).Int64()
		if err != nil && err != redis.Nil {
			return err
		}
		if ifRevision >= 0 && cur != ifRevision {
			return verr.New(verr.PreconditionFailed, "If-Match", "org %s is at revision %d, not %d", org, cur, ifRevision)
		}
		if err := checkBuildsUnchanged(ctx, tx, st); err != nil {
			return err
		}
		old, err := tx.SMembers(ctx, k.Index()).Result()
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
				p.Rename(ctx, st.tmp+strings.TrimPrefix(key, k.p), key)
			}
			p.Del(ctx, k.Index())
			if len(live) > 0 {
				p.SAdd(ctx, k.Index(), toAny(live)...)
			}
			p.Set(ctx, k.Seq(), st.seq, 0)
			for _, key := range sortedKeys(st.opts.Apart) {
				p.Del(ctx, key)
				if h := st.opts.Apart[key]; len(h) > 0 {
					args := make([]any, 0, 2*len(h))
					for _, f := range sortedKeys(h) {
						args = append(args, f, h[f])
					}
					p.HSet(ctx, key, args...)
				}
			}
			action := cmp.Or(st.opts.Action, "org.replaced")
			after := map[string]any{"revision": rev, "users": l.users, "groups": l.groups, "projects": l.projects}
			for name, v := range st.opts.Audit {
				after[name] = v
			}
			s.record(p, k, rev, a, action, "org/"+org, map[string]any{"revision": cur}, after,
				Change{Org: org, Kind: action, All: true})
			return nil
		})
		return err
	}
	if err := s.watched(ctx, k, org, txf); err != nil {
		return 0, err
	}
	s.rdb.SAdd(ctx, s.orgsKey(), org)
	return rev, nil
}

// checkBuildsUnchanged refuses a document that changes an existing build:
// each build the org already has is compared with the staged one.
func checkBuildsUnchanged(ctx context.Context, tx *redis.Tx, st staged) error {
	for _, pb := range st.layout.builds {
		cur, err := tx.HMGet(ctx, st.k.Builds(pb.id), pb.ids...).Result()
		if err != nil {
			return err
		}
		var exist []int
		var ids []string
		for i, v := range cur {
			if _, ok := v.(string); ok {
				exist = append(exist, i)
				ids = append(ids, pb.ids[i])
			}
		}
		if len(exist) == 0 {
			continue
		}
		staged, err := tx.HMGet(ctx, st.tmp+strings.TrimPrefix(st.k.Builds(pb.id), st.k.p), ids...).Result()
		if err != nil {
			return err
		}
		for j, i := range exist {
			neu, _ := staged[j].(string)
			if !sameManifest(cur[i].(string), neu) {
				return verr.New(verr.Conflict, pathf("projects[%d].builds[%d]", pb.index, i),
					"build %s of project %s exists with a different manifest: builds are immutable", pb.ids[i], pb.id)
			}
		}
	}
	return nil
}

// unlink removes keys (temporary ones, after a failure), in batches.
func (s *Store) unlink(keys []string) {
	for i := 0; i < len(keys); i += importBatch {
		s.rdb.Unlink(context.Background(), keys[i:min(i+importBatch, len(keys))]...)
	}
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

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

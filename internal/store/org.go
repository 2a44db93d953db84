package store

import (
	"context"
	"slices"

	"github.com/verdict-pdp/verdict/internal/verr"
)

// DeleteOrg deletes every data key of an org in one transaction. The
// revision, the audit stream and the change feed stay: the revision keeps
// growing if the org is imported again (an old "rev-N" ETag can never match
// a new org), the audit keeps the org's history, and caches following the
// feed see the deletion. ifRevision, when >= 0, must equal the revision.
func (s *Store) DeleteOrg(ctx context.Context, org string, ifRevision int64, a Actor) (int64, error) {
	rev, err := s.Write(ctx, org, a, func(t *Tx) (*Outcome, error) {
		if ifRevision >= 0 && ifRevision != t.rev {
			return nil, verr.New(verr.PreconditionFailed, "If-Match", "org %s is at revision %d, not %d", org, t.rev, ifRevision)
		}
		index, err := t.tx.SMembers(t.ctx, t.k.Index()).Result()
		if err != nil {
			return nil, err
		}
		// last_seen, justifications and uninvited users are kept outside
		// the index (apart.go).
		index = append(index, t.k.Org(), t.k.Seq(), t.k.Index())
		index = append(index, t.k.apartKeys()...)
		slices.Sort(index)
		for _, key := range slices.Compact(index) {
			if key != t.k.Rev() && key != t.k.Audit() && key != t.k.Changes() {
				t.Del(key)
			}
		}
		t.dropped = map[string]bool{} // the index itself is gone
		return &Outcome{Action: "org.deleted", Target: "org/" + org, Before: map[string]any{"revision": t.rev, "keys": len(index)},
			Change: Change{All: true}}, nil
	})
	if err == nil {
		s.rdb.SRem(ctx, s.orgsKey(), org)
	}
	return rev, err
}

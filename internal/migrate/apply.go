package migrate

import (
	"context"
	"time"

	"github.com/verdict-pdp/verdict/internal/engine"
	"github.com/verdict-pdp/verdict/internal/orgdoc"
	"github.com/verdict-pdp/verdict/internal/store"
	"github.com/verdict-pdp/verdict/internal/verr"
)

// Plan is the dry run of a migration: the export converted, and the
// decisions of every user who had access replayed on the result with eng.
func Plan(ctx context.Context, e *Export, eng *engine.Engine) (*orgdoc.Org, *Report, error) {
	doc, rep, err := Convert(e)
	if err != nil {
		return nil, nil, err
	}
	if rep.Replay, err = RunReplay(ctx, e, doc, eng, nil); err != nil {
		return nil, nil, err
	}
	return doc, rep, nil
}

// Apply imports a planned migration into the store, as one whole-org import
// audited as org.migrated, with the users to invite recorded in the same
// transaction (Report.StoreOptions). A plan whose replay found a decision
// lost or widened without a known cause is refused (Invalid at "replay").
// An org that exists is replaced only when ifRevision (If-Match) names its
// revision; otherwise the answer is Conflict at "If-Match". It returns the
// revision the import produced.
func Apply(ctx context.Context, st *store.Store, doc *orgdoc.Org, rep *Report, ifRevision int64, a store.Actor, now time.Time) (int64, error) {
	if rep.Replay == nil {
		return 0, verr.New(verr.Internal, "replay", "a migration is applied only after its replay")
	}
	if !rep.Replay.OK() {
		d := rep.Replay.Unexplained[0]
		return 0, verr.New(verr.Invalid, "replay", "the migration would change %d decisions with no known cause, first: %s on %s/%s, %s: %s in 5.1, %s after; nothing was imported",
			len(rep.Replay.Unexplained), d.User, d.Project, d.Environment, d.Question, d.Before, d.After)
	}
	rev, err := st.Revision(ctx, doc.Org)
	if err != nil {
		return 0, err
	}
	if ifRevision < 0 {
		if _, err := st.ReadHash(ctx, doc.Org, st.Keys(doc.Org).Org()); err == nil {
			return 0, verr.New(verr.Conflict, "If-Match", "org %s exists (revision %d): to replace it with the migrated document, send If-Match: \"rev-%d\"", doc.Org, rev, rev)
		} else if verr.CodeOf(err) != verr.NotFound {
			return 0, err
		}
		// From this revision on: a concurrent write or import fails the import.
		ifRevision = rev
	}
	return st.PutOrgWith(ctx, doc, ifRevision, a, rep.StoreOptions(st.Keys(doc.Org), now))
}

package domain

import (
	"context"
	"sort"

	"github.com/verdict-pdp/verdict/internal/store"
)

// txn is one admin write in progress: a store.Tx, plus the project
// records read so far (written back at the end when dirty) and what the
// write's earlier steps left of the designer roles.
type txn struct {
	*store.Tx
	k store.Keys

	projects map[string]*projectEntry // projects read so far, by id

	// pendingDroles is the droles hash as a txn's earlier steps left it
	// (set by dropDesignerRoles), for the steps that then append to it.
	pendingDroles map[string]string
}

// projectEntry is a project record read in a txn; dirty ones are written
// back at the end of the write.
type projectEntry struct {
	rec   ProjectRecord
	seq   int64
	dirty bool
}

// write runs fn as one atomic admin write of org by a (store.Write) and
// returns the revision it produced.
func (d *Admin) write(ctx context.Context, org string, a store.Actor, fn func(t *txn) (*store.Outcome, error)) (int64, error) {
	return d.st.Write(ctx, org, a, func(tx *store.Tx) (*store.Outcome, error) {
		t := &txn{Tx: tx, k: tx.Keys(), projects: map[string]*projectEntry{}}
		out, err := fn(t)
		if err != nil {
			return nil, err
		}
		for _, pe := range t.sortedProjects() {
			if pe.dirty {
				t.HSet(t.k.Projects(), pe.rec.ID, store.WithSeq(pe.rec, pe.seq))
			}
		}
		return out, nil
	})
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

package store

import (
	"context"
	"slices"
	"strings"

	"github.com/verdict-pdp/verdict/internal/orgdoc"
	"github.com/verdict-pdp/verdict/internal/verr"
)

// Flow permissions of a project, business filters, and deleting a whole org.

// GetFlowPermissions reads a project's flow permissions ({} when none).
func (s *Store) GetFlowPermissions(ctx context.Context, org, project string) (orgdoc.FlowPermissions, error) {
	rec, err := s.GetProject(ctx, org, project)
	if err != nil || rec.FlowPermissions == nil {
		return orgdoc.FlowPermissions{}, err
	}
	return *rec.FlowPermissions, nil
}

// PutFlowPermissions replaces a project's flow permissions, checked with
// orgdoc's rules: "grant" or "deny" for known users and for org roles or
// the system roles AuthenticatedUser and NonAuthenticatedUser. The ETag
// compared with ifMatch is that of GetFlowPermissions.
func (s *Store) PutFlowPermissions(ctx context.Context, org, project string, fp orgdoc.FlowPermissions, ifMatch string, a Actor) (orgdoc.FlowPermissions, int64, error) {
	rev, err := s.write(ctx, org, a, func(t *txn) (*outcome, error) {
		pe, err := t.project(project)
		if err != nil {
			return nil, err
		}
		cur := orgdoc.FlowPermissions{}
		if pe.rec.FlowPermissions != nil {
			cur = *pe.rec.FlowPermissions
		}
		if err := checkIfMatch(ifMatch, cur, true); err != nil {
			return nil, err
		}
		users, roles, err := t.namedInFlows(&fp)
		if err != nil {
			return nil, err
		}
		if err := validateFlowPermissions(t.org, users, roles, &fp); err != nil {
			return nil, err
		}
		pe.rec.FlowPermissions = &fp
		if fp.Defaults == nil && len(fp.Flows) == 0 {
			pe.rec.FlowPermissions = nil // stored as absent, exported as absent
		}
		pe.dirty = true
		return &outcome{action: "flow_permissions.put", target: "project/" + project + "/flow_permissions", before: cur, after: fp,
			change: Change{Projects: []string{project}}}, nil
	})
	return fp, rev, err
}

// namedInFlows returns the users and roles fp names that exist.
func (t *txn) namedInFlows(fp *orgdoc.FlowPermissions) ([]string, []string, error) {
	var users, roles []string
	all := []orgdoc.FlowEntries{}
	if fp.Defaults != nil {
		all = append(all, *fp.Defaults)
	}
	for _, fe := range fp.Flows {
		all = append(all, fe)
	}
	for _, fe := range all {
		for u := range fe.Users {
			if ok, err := t.hexists(t.k.users(), u); err != nil {
				return nil, nil, err
			} else if ok {
				users = addUnique(users, u)
			}
		}
		for r := range fe.Roles {
			if ok, err := t.hexists(t.k.roles(), r); err != nil {
				return nil, nil, err
			} else if ok {
				roles = addUnique(roles, r)
			}
		}
	}
	return users, roles, nil
}

// ListFilters pages through an org's business filters.
func (s *Store) ListFilters(ctx context.Context, org, cursor string, limit int) (Page[orgdoc.BusinessFilter], error) {
	return listRecords[orgdoc.BusinessFilter](ctx, s, org, s.keys(org).filters(), cursor, limit)
}

// GetFilter reads one business filter.
func (s *Store) GetFilter(ctx context.Context, org, id string) (orgdoc.BusinessFilter, error) {
	return getRecord[orgdoc.BusinessFilter](ctx, s, org, s.keys(org).filters(), id, "business_filter", "business filter")
}

// PutFilter creates or replaces a business filter; it reports whether the
// filter is new. Filter answers are not named by the change feed's fields,
// so the change says All.
func (s *Store) PutFilter(ctx context.Context, org string, f orgdoc.BusinessFilter, ifMatch string, a Actor) (orgdoc.BusinessFilter, int64, bool, error) {
	switch {
	case f.ID == "" || len(f.ID) > maxIDLen:
		return f, 0, false, verr.New(verr.Invalid, "id", "business filter id is required (at most %d bytes)", maxIDLen)
	case strings.TrimSpace(f.Field) == "":
		return f, 0, false, verr.New(verr.Invalid, "field", "field is required")
	case strings.TrimSpace(f.Attribute) == "":
		return f, 0, false, verr.New(verr.Invalid, "attribute", "attribute is required")
	}
	created := false
	rev, err := s.write(ctx, org, a, func(t *txn) (*outcome, error) {
		raw, exists, err := t.hget(t.k.filters(), f.ID)
		if err != nil {
			return nil, err
		}
		var cur orgdoc.BusinessFilter
		if exists {
			if err := jsonUnmarshal(raw, &cur); err != nil {
				return nil, err
			}
		}
		if err := checkIfMatch(ifMatch, cur, exists); err != nil {
			return nil, err
		}
		seq := fastSeq(raw)
		if !exists {
			created = true
			if seq, err = t.next(); err != nil {
				return nil, err
			}
		}
		t.hset(t.k.filters(), f.ID, withSeq(f, seq))
		var before any
		if exists {
			before = cur
		}
		return &outcome{action: "business_filter.put", target: "business_filter/" + f.ID, before: before, after: f, change: Change{All: true}}, nil
	})
	return f, rev, created, err
}

// DeleteFilter deletes a business filter.
func (s *Store) DeleteFilter(ctx context.Context, org, id, ifMatch string, a Actor) (int64, error) {
	return s.write(ctx, org, a, func(t *txn) (*outcome, error) {
		var cur orgdoc.BusinessFilter
		if _, err := t.getJSON(t.k.filters(), id, &cur, "business_filter", "business filter"); err != nil {
			return nil, err
		}
		if err := checkIfMatch(ifMatch, cur, true); err != nil {
			return nil, err
		}
		t.hdel(t.k.filters(), id)
		return &outcome{action: "business_filter.deleted", target: "business_filter/" + id, before: cur, change: Change{All: true}}, nil
	})
}

// DeleteOrg deletes every data key of an org in one transaction. The
// revision, the audit stream and the change feed stay: the revision keeps
// growing if the org is imported again (an old "rev-N" ETag can never match
// a new org), the audit keeps the org's history, and caches following the
// feed see the deletion. ifRevision, when >= 0, must equal the revision.
func (s *Store) DeleteOrg(ctx context.Context, org string, ifRevision int64, a Actor) (int64, error) {
	rev, err := s.write(ctx, org, a, func(t *txn) (*outcome, error) {
		if ifRevision >= 0 && ifRevision != t.rev {
			return nil, verr.New(verr.PreconditionFailed, "If-Match", "org %s is at revision %d, not %d", org, t.rev, ifRevision)
		}
		index, err := t.tx.SMembers(t.ctx, t.k.index()).Result()
		if err != nil {
			return nil, err
		}
		// last_seen is kept outside the index (written apart by the PDP).
		index = append(index, t.k.org(), t.k.seq(), t.k.index(), t.k.lastSeen())
		slices.Sort(index)
		for _, key := range slices.Compact(index) {
			if key != t.k.rev() && key != t.k.audit() && key != t.k.changes() {
				t.del(key)
			}
		}
		t.dropped = map[string]bool{} // the index itself is gone
		return &outcome{action: "org.deleted", target: "org/" + org, before: map[string]any{"revision": t.rev, "keys": len(index)},
			change: Change{All: true}}, nil
	})
	if err == nil {
		s.rdb.SRem(ctx, s.orgsKey(), org)
	}
	return rev, err
}

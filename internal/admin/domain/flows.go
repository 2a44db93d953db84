package domain

import (
	"context"
	"strings"

	"github.com/verdict-pdp/verdict/internal/orgdoc"
	"github.com/verdict-pdp/verdict/internal/store"
	"github.com/verdict-pdp/verdict/internal/verr"
)

// Flow permissions of a project, and business filters.

// GetFlowPermissions reads a project's flow permissions ({} when none).
func (d *Admin) GetFlowPermissions(ctx context.Context, org, project string) (orgdoc.FlowPermissions, error) {
	rec, err := d.GetProject(ctx, org, project)
	if err != nil || rec.FlowPermissions == nil {
		return orgdoc.FlowPermissions{}, err
	}
	return *rec.FlowPermissions, nil
}

// PutFlowPermissions replaces a project's flow permissions, checked with
// orgdoc's rules: "grant" or "deny" for known users and for org roles or
// the system roles AuthenticatedUser and NonAuthenticatedUser. The ETag
// compared with ifMatch is that of GetFlowPermissions.
func (d *Admin) PutFlowPermissions(ctx context.Context, org, project string, fp orgdoc.FlowPermissions, ifMatch string, a store.Actor) (orgdoc.FlowPermissions, int64, error) {
	rev, err := d.write(ctx, org, a, func(t *txn) (*store.Outcome, error) {
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
		if err := validateFlowPermissions(t.Org(), users, roles, &fp); err != nil {
			return nil, err
		}
		pe.rec.FlowPermissions = &fp
		if fp.Defaults == nil && len(fp.Flows) == 0 {
			pe.rec.FlowPermissions = nil // stored as absent, exported as absent
		}
		pe.dirty = true
		return &store.Outcome{Action: "flow_permissions.put", Target: "project/" + project + "/flow_permissions", Before: cur, After: fp,
			Change: store.Change{Projects: []string{project}}}, nil
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
			if ok, err := t.HExists(t.k.Users(), u); err != nil {
				return nil, nil, err
			} else if ok {
				users = addUnique(users, u)
			}
		}
		for r := range fe.Roles {
			if ok, err := t.HExists(t.k.Roles(), r); err != nil {
				return nil, nil, err
			} else if ok {
				roles = addUnique(roles, r)
			}
		}
	}
	return users, roles, nil
}

// ListFilters pages through an org's business filters.
func (d *Admin) ListFilters(ctx context.Context, org, cursor string, limit int) (Page[orgdoc.BusinessFilter], error) {
	return listRecords[orgdoc.BusinessFilter](ctx, d, org, d.st.Keys(org).Filters(), cursor, limit)
}

// GetFilter reads one business filter.
func (d *Admin) GetFilter(ctx context.Context, org, id string) (orgdoc.BusinessFilter, error) {
	return getRecord[orgdoc.BusinessFilter](ctx, d, org, d.st.Keys(org).Filters(), id, "business_filter", "business filter")
}

// PutFilter creates or replaces a business filter; it reports whether the
// filter is new. Filter answers are not named by the change feed's fields,
// so the change says All.
func (d *Admin) PutFilter(ctx context.Context, org string, f orgdoc.BusinessFilter, ifMatch string, a store.Actor) (orgdoc.BusinessFilter, int64, bool, error) {
	switch {
	case f.ID == "" || len(f.ID) > maxIDLen:
		return f, 0, false, verr.New(verr.Invalid, "id", "business filter id is required (at most %d bytes)", maxIDLen)
	case strings.TrimSpace(f.Field) == "":
		return f, 0, false, verr.New(verr.Invalid, "field", "field is required")
	case strings.TrimSpace(f.Attribute) == "":
		return f, 0, false, verr.New(verr.Invalid, "attribute", "attribute is required")
	}
	created := false
	rev, err := d.write(ctx, org, a, func(t *txn) (*store.Outcome, error) {
		raw, exists, err := t.HGet(t.k.Filters(), f.ID)
		if err != nil {
			return nil, err
		}
		var cur orgdoc.BusinessFilter
		if exists {
			if err := store.Decode(raw, &cur); err != nil {
				return nil, err
			}
		}
		if err := checkIfMatch(ifMatch, cur, exists); err != nil {
			return nil, err
		}
		seq := store.SeqOf(raw)
		if !exists {
			created = true
			if seq, err = t.Next(); err != nil {
				return nil, err
			}
		}
		t.HSet(t.k.Filters(), f.ID, store.WithSeq(f, seq))
		var before any
		if exists {
			before = cur
		}
		return &store.Outcome{Action: "business_filter.put", Target: "business_filter/" + f.ID, Before: before, After: f, Change: store.Change{All: true}}, nil
	})
	return f, rev, created, err
}

// DeleteFilter deletes a business filter.
func (d *Admin) DeleteFilter(ctx context.Context, org, id, ifMatch string, a store.Actor) (int64, error) {
	return d.write(ctx, org, a, func(t *txn) (*store.Outcome, error) {
		var cur orgdoc.BusinessFilter
		if _, err := t.GetRecord(t.k.Filters(), id, &cur, "business_filter", "business filter"); err != nil {
			return nil, err
		}
		if err := checkIfMatch(ifMatch, cur, true); err != nil {
			return nil, err
		}
		t.HDel(t.k.Filters(), id)
		return &store.Outcome{Action: "business_filter.deleted", Target: "business_filter/" + id, Before: cur, Change: store.Change{All: true}}, nil
	})
}

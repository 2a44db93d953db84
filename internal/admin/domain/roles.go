package domain

import (
	"context"
	"encoding/json"
	"slices"
	"strings"

	"github.com/verdict-pdp/verdict/internal/orgdoc"
	"github.com/verdict-pdp/verdict/internal/store"
	"github.com/verdict-pdp/verdict/internal/verr"
)

// The org's runtime role catalog. Deleting a role removes it from every
// share (user and group), legacy grant, flow permission and deprecated role
// override, in one transaction (DESIGN.md §1). Builds are immutable and keep
// listing it; a share can then never give it again, since shares are checked
// against org roles.

// ListRoles pages through an org's roles.
func (d *Admin) ListRoles(ctx context.Context, org, cursor string, limit int) (Page[orgdoc.Role], error) {
	return listRecords[orgdoc.Role](ctx, d, org, d.st.Keys(org).Roles(), cursor, limit)
}

// GetRole reads one role.
func (d *Admin) GetRole(ctx context.Context, org, name string) (orgdoc.Role, error) {
	return getRecord[orgdoc.Role](ctx, d, org, d.st.Keys(org).Roles(), name, "role", "role")
}

// CreateRole adds a role to the catalog.
func (d *Admin) CreateRole(ctx context.Context, org string, r orgdoc.Role, a store.Actor) (orgdoc.Role, int64, error) {
	switch {
	case r.Name == "":
		return r, 0, verr.New(verr.Invalid, "name", "role name is required")
	case len(r.Name) > maxIDLen:
		return r, 0, verr.New(verr.Invalid, "name", "role name is longer than %d bytes", maxIDLen)
	case r.Name == orgdoc.RoleAuthenticatedUser || r.Name == orgdoc.RoleNonAuthenticatedUser:
		// As in orgdoc: flow permission entries would become ambiguous.
		return r, 0, verr.New(verr.Invalid, "name", "role name %q is reserved for the system role", r.Name)
	}
	rev, err := d.write(ctx, org, a, func(t *txn) (*store.Outcome, error) {
		if ok, err := t.HExists(t.k.Roles(), r.Name); err != nil || ok {
			return nil, firstErr(err, verr.New(verr.Conflict, "name", "role %q exists", r.Name))
		}
		seq, err := t.Next()
		if err != nil {
			return nil, err
		}
		t.HSet(t.k.Roles(), r.Name, store.WithSeq(r, seq))
		// A new role is in no share, build or grant: no decision changes.
		return &store.Outcome{Action: "role.created", Target: "role/" + r.Name, After: r}, nil
	})
	return r, rev, err
}

// UpdateRole changes a role's description.
func (d *Admin) UpdateRole(ctx context.Context, org, name, description, ifMatch string, a store.Actor) (orgdoc.Role, int64, error) {
	r := orgdoc.Role{Name: name, Description: description}
	rev, err := d.write(ctx, org, a, func(t *txn) (*store.Outcome, error) {
		var cur orgdoc.Role
		seq, err := t.GetRecord(t.k.Roles(), name, &cur, "role", "role")
		if err != nil {
			return nil, err
		}
		if err := checkIfMatch(ifMatch, cur, true); err != nil {
			return nil, err
		}
		t.HSet(t.k.Roles(), name, store.WithSeq(r, seq))
		return &store.Outcome{Action: "role.updated", Target: "role/" + name, Before: cur, After: r}, nil
	})
	return r, rev, err
}

// DeleteRole deletes a role and every use of it outside builds.
func (d *Admin) DeleteRole(ctx context.Context, org, name, ifMatch string, a store.Actor) (int64, error) {
	return d.write(ctx, org, a, func(t *txn) (*store.Outcome, error) {
		var cur orgdoc.Role
		if _, err := t.GetRecord(t.k.Roles(), name, &cur, "role", "role"); err != nil {
			return nil, err
		}
		if err := checkIfMatch(ifMatch, cur, true); err != nil {
			return nil, err
		}
		t.HDel(t.k.Roles(), name)
		ch := store.Change{}
		sharesChanged, overridesRemoved := 0, 0
		envs, err := t.allEnvs()
		if err != nil {
			return nil, err
		}
		for _, e := range envs {
			n, groups, users, err := t.dropRoleFromShares(e, name)
			if err != nil {
				return nil, err
			}
			m, err := t.dropRoleOverrides(e, name)
			if err != nil {
				return nil, err
			}
			if n+m > 0 {
				sharesChanged += n
				overridesRemoved += m
				ch.Projects = addUnique(ch.Projects, e.project)
				for _, g := range groups {
					ch.Groups = addUnique(ch.Groups, g)
				}
				for _, u := range users {
					ch.Users = addUnique(ch.Users, u)
				}
			}
		}
		for _, pe := range t.sortedProjects() {
			if dropFlowEntries(pe.rec.FlowPermissions, func(fe *orgdoc.FlowEntries) bool { return deleteKey(fe.Roles, name) }) {
				pe.dirty = true
				ch.Projects = addUnique(ch.Projects, pe.rec.ID)
			}
		}
		grantsRemoved, err := t.dropLegacyGrants(name, &ch)
		if err != nil {
			return nil, err
		}
		slices.Sort(ch.Projects)
		slices.Sort(ch.Users)
		slices.Sort(ch.Groups)
		return &store.Outcome{Action: "role.deleted", Target: "role/" + name, Before: cur,
			After: map[string]any{"shares_changed": sharesChanged, "role_overrides_removed": overridesRemoved,
				"legacy_grants_removed": grantsRemoved, "projects": ch.Projects},
			Change: ch}, nil
	})
}

// dropRoleFromShares removes role from every share of one environment; a
// share left without roles is removed. It returns how many shares changed
// and their subjects.
func (t *txn) dropRoleFromShares(e envEntry, role string) (int, []string, []string, error) {
	n := 0
	var groups, users []string
	for f, raw := range e.h {
		if !strings.HasPrefix(f, store.PrefixUserShare) && !strings.HasPrefix(f, store.PrefixGroupShare) {
			continue
		}
		var sh orgdoc.Share
		if err := store.Decode(raw, &sh); err != nil {
			return 0, nil, nil, err
		}
		if !slices.Contains(sh.Roles, role) {
			continue
		}
		n++
		if sh.Subject.Group != "" {
			groups = append(groups, sh.Subject.Group)
		} else {
			users = append(users, sh.Subject.User)
		}
		sh.Roles = without(sh.Roles, role)
		if len(sh.Roles) == 0 {
			t.HDel(e.key, f)
		} else {
			t.HSet(e.key, f, store.WithSeq(sh, store.SeqOf(raw)))
		}
	}
	return n, groups, users, nil
}

// dropRoleOverrides removes the deprecated role overrides of role from one
// environment and returns how many went.
func (t *txn) dropRoleOverrides(e envEntry, role string) (int, error) {
	list, err := roleOverrides(e.h)
	if err != nil {
		return 0, err
	}
	kept := list[:0:0]
	for _, ro := range list {
		if ro.o.Role != role {
			kept = append(kept, ro)
		}
	}
	if len(kept) == len(list) {
		return 0, nil
	}
	t.setRoleOverrides(e.key, kept)
	return len(list) - len(kept), nil
}

// dropLegacyGrants removes every legacy grant of role, naming the users in ch.
func (t *txn) dropLegacyGrants(role string, ch *store.Change) (int, error) {
	h, err := t.HGetAll(t.k.Legacy())
	if err != nil {
		return 0, err
	}
	n := 0
	for user, raw := range h {
		var rs []store.SeqRole
		if err := store.Decode(raw, &rs); err != nil {
			return 0, err
		}
		kept := rs[:0:0]
		for _, r := range rs {
			if r.Role != role {
				kept = append(kept, r)
			}
		}
		if len(kept) == len(rs) {
			continue
		}
		n += len(rs) - len(kept)
		ch.Users = addUnique(ch.Users, user)
		if len(kept) == 0 {
			t.HDel(t.k.Legacy(), user)
		} else {
			t.HSet(t.k.Legacy(), user, store.MustJSON(kept))
		}
	}
	return n, nil
}

// seqOverride is a deprecated role override with its position.
type seqOverride struct {
	o   orgdoc.Override
	seq int64
}

// roleOverrides reads the `ro` field of an environment hash.
func roleOverrides(h map[string]string) ([]seqOverride, error) {
	raw, ok := h[store.FieldRoleOverride]
	if !ok {
		return nil, nil
	}
	var list []json.RawMessage
	if err := store.Decode(raw, &list); err != nil {
		return nil, err
	}
	out := make([]seqOverride, 0, len(list))
	for _, r := range list {
		var o orgdoc.Override
		if err := store.Decode(string(r), &o); err != nil {
			return nil, err
		}
		out = append(out, seqOverride{o, store.SeqOf(string(r))})
	}
	return out, nil
}

// setRoleOverrides writes the `ro` field (deleted when empty).
func (t *txn) setRoleOverrides(key string, list []seqOverride) {
	if len(list) == 0 {
		t.HDel(key, store.FieldRoleOverride)
		return
	}
	t.HSet(key, store.FieldRoleOverride, roleOverridesJSON(list))
}

package store

import (
	"context"
	"encoding/json"
	"slices"

	"github.com/verdict-pdp/verdict/internal/orgdoc"
	"github.com/verdict-pdp/verdict/internal/verr"
)

// The org's runtime role catalog. Deleting a role removes it from every
// share (user and group), legacy grant, flow permission and deprecated role
// override, in one transaction (DESIGN.md §1). Builds are immutable and keep
// listing it; a share can then never give it again, since shares are checked
// against org roles.

// ListRoles pages through an org's roles.
func (s *Store) ListRoles(ctx context.Context, org, cursor string, limit int) (Page[orgdoc.Role], error) {
	return listRecords[orgdoc.Role](ctx, s, org, s.keys(org).roles(), cursor, limit)
}

// GetRole reads one role.
func (s *Store) GetRole(ctx context.Context, org, name string) (orgdoc.Role, error) {
	return getRecord[orgdoc.Role](ctx, s, org, s.keys(org).roles(), name, "role", "role")
}

// CreateRole adds a role to the catalog.
func (s *Store) CreateRole(ctx context.Context, org string, r orgdoc.Role, a Actor) (orgdoc.Role, int64, error) {
	switch {
	case r.Name == "":
		return r, 0, verr.New(verr.Invalid, "name", "role name is required")
	case len(r.Name) > maxIDLen:
		return r, 0, verr.New(verr.Invalid, "name", "role name is longer than %d bytes", maxIDLen)
	case r.Name == orgdoc.RoleAuthenticatedUser || r.Name == orgdoc.RoleNonAuthenticatedUser:
		// As in orgdoc: flow permission entries would become ambiguous.
		return r, 0, verr.New(verr.Invalid, "name", "role name %q is reserved for the system role", r.Name)
	}
	rev, err := s.write(ctx, org, a, func(t *txn) (*outcome, error) {
		if ok, err := t.hexists(t.k.roles(), r.Name); err != nil || ok {
			return nil, firstErr(err, verr.New(verr.Conflict, "name", "role %q exists", r.Name))
		}
		seq, err := t.next()
		if err != nil {
			return nil, err
		}
		t.hset(t.k.roles(), r.Name, withSeq(r, seq))
		// A new role is in no share, build or grant: no decision changes.
		return &outcome{action: "role.created", target: "role/" + r.Name, after: r}, nil
	})
	return r, rev, err
}

// UpdateRole changes a role's description.
func (s *Store) UpdateRole(ctx context.Context, org, name, description, ifMatch string, a Actor) (orgdoc.Role, int64, error) {
	r := orgdoc.Role{Name: name, Description: description}
	rev, err := s.write(ctx, org, a, func(t *txn) (*outcome, error) {
		var cur orgdoc.Role
		seq, err := t.getJSON(t.k.roles(), name, &cur, "role", "role")
		if err != nil {
			return nil, err
		}
		if err := checkIfMatch(ifMatch, cur, true); err != nil {
			return nil, err
		}
		t.hset(t.k.roles(), name, withSeq(r, seq))
		return &outcome{action: "role.updated", target: "role/" + name, before: cur, after: r}, nil
	})
	return r, rev, err
}

// DeleteRole deletes a role and every use of it outside builds.
func (s *Store) DeleteRole(ctx context.Context, org, name, ifMatch string, a Actor) (int64, error) {
	return s.write(ctx, org, a, func(t *txn) (*outcome, error) {
		var cur orgdoc.Role
		if _, err := t.getJSON(t.k.roles(), name, &cur, "role", "role"); err != nil {
			return nil, err
		}
		if err := checkIfMatch(ifMatch, cur, true); err != nil {
			return nil, err
		}
		t.hdel(t.k.roles(), name)
		ch := Change{}
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
		return &outcome{action: "role.deleted", target: "role/" + name, before: cur,
			after: map[string]any{"shares_changed": sharesChanged, "role_overrides_removed": overridesRemoved,
				"legacy_grants_removed": grantsRemoved, "projects": ch.Projects},
			change: ch}, nil
	})
}

// dropRoleFromShares removes role from every share of one environment; a
// share left without roles is removed. It returns how many shares changed
// and their subjects.
func (t *txn) dropRoleFromShares(e envEntry, role string) (int, []string, []string, error) {
	n := 0
	var groups, users []string
	for f, raw := range e.h {
		if !hasPrefix(f, prefixUserShare) && !hasPrefix(f, prefixGroupShare) {
			continue
		}
		var sh orgdoc.Share
		if err := jsonUnmarshal(raw, &sh); err != nil {
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
			t.hdel(e.key, f)
		} else {
			t.hset(e.key, f, withSeq(sh, fastSeq(raw)))
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
func (t *txn) dropLegacyGrants(role string, ch *Change) (int, error) {
	h, err := t.hgetall(t.k.legacy())
	if err != nil {
		return 0, err
	}
	n := 0
	for user, raw := range h {
		var rs []seqRole
		if err := jsonUnmarshal(raw, &rs); err != nil {
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
			t.hdel(t.k.legacy(), user)
		} else {
			t.hset(t.k.legacy(), user, mustJSON(kept))
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
	raw, ok := h[fieldRoleOverride]
	if !ok {
		return nil, nil
	}
	var list []json.RawMessage
	if err := jsonUnmarshal(raw, &list); err != nil {
		return nil, err
	}
	out := make([]seqOverride, 0, len(list))
	for _, r := range list {
		var o orgdoc.Override
		if err := jsonUnmarshal(string(r), &o); err != nil {
			return nil, err
		}
		out = append(out, seqOverride{o, fastSeq(string(r))})
	}
	return out, nil
}

// setRoleOverrides writes the `ro` field (deleted when empty).
func (t *txn) setRoleOverrides(key string, list []seqOverride) {
	if len(list) == 0 {
		t.hdel(key, fieldRoleOverride)
		return
	}
	t.hset(key, fieldRoleOverride, roleOverridesJSON(list))
}

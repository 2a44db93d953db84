package store

import (
	"context"
	"strings"

	"github.com/verdict-pdp/verdict/internal/orgdoc"
	"github.com/verdict-pdp/verdict/internal/verr"
)

// Designer (design-time) groups: a record in `dgroups`, members in
// `dmembers:<group>` and the reverse index `dgroups_of`, changed together.
// all_users_<workspace> names are reserved for the computed system groups
// (DESIGN.md §2 rule 9) and are never stored.

// DesignerGroupRecord is a designer group as the admin API shows it
// (members are listed separately, paginated).
type DesignerGroupRecord struct {
	Name string `json:"name"`
}

// ListDesignerGroups pages through an org's designer groups.
func (s *Store) ListDesignerGroups(ctx context.Context, org, cursor string, limit int) (Page[DesignerGroupRecord], error) {
	return listRecords[DesignerGroupRecord](ctx, s, org, s.keys(org).dgroups(), cursor, limit)
}

// GetDesignerGroup reads one designer group.
func (s *Store) GetDesignerGroup(ctx context.Context, org, name string) (DesignerGroupRecord, error) {
	return getRecord[DesignerGroupRecord](ctx, s, org, s.keys(org).dgroups(), name, "designer_group", "designer group")
}

// ListDesignerMembers pages through a designer group's members.
func (s *Store) ListDesignerMembers(ctx context.Context, org, group, cursor string, limit int) (Page[string], error) {
	k := s.keys(org)
	return s.listZset(ctx, org, k.dgroups(), group, k.dmembers(group), "designer_group", cursor, limit)
}

// CreateDesignerGroup creates a designer group, with its first members.
func (s *Store) CreateDesignerGroup(ctx context.Context, org, name string, members []string, a Actor) (DesignerGroupRecord, int64, error) {
	g := DesignerGroupRecord{Name: name}
	if err := checkGroupName("name", name); err != nil {
		return g, 0, err
	}
	if strings.HasPrefix(name, orgdoc.SystemGroupPrefix) {
		return g, 0, verr.New(verr.Invalid, "name", "designer group name %q is reserved: %s<workspace> groups are system groups", name, orgdoc.SystemGroupPrefix)
	}
	if len(members) > 0 {
		if err := checkMemberList(members); err != nil {
			return g, 0, membersField(err)
		}
	}
	rev, err := s.write(ctx, org, a, func(t *txn) (*outcome, error) {
		if ok, err := t.hexists(t.k.dgroups(), name); err != nil || ok {
			return nil, firstErr(err, verr.New(verr.Conflict, "name", "designer group %q exists", name))
		}
		seq, err := t.next()
		if err != nil {
			return nil, err
		}
		t.hset(t.k.dgroups(), name, withSeq(g, seq))
		added := []string{}
		if len(members) > 0 {
			if added, err = t.addMembers(t.k.dmembers(name), t.k.dgroupsOf(), name, members); err != nil {
				return nil, membersField(err)
			}
		}
		return &outcome{action: "designer_group.created", target: "designer_group/" + name,
			after: map[string]any{"name": name, "members": added}, change: Change{Users: added}}, nil
	})
	return g, rev, err
}

// membersField renames the "users[i]" of a membership error to the
// "members[i]" of a create body.
func membersField(err error) error {
	if ve, ok := err.(*verr.Error); ok && strings.HasPrefix(ve.Field, "users") {
		out := *ve
		out.Field = "members" + strings.TrimPrefix(ve.Field, "users")
		return &out
	}
	return err
}

// DeleteDesignerGroup deletes a designer group, its memberships and its
// designer role assignments.
func (s *Store) DeleteDesignerGroup(ctx context.Context, org, name, ifMatch string, a Actor) (int64, error) {
	return s.write(ctx, org, a, func(t *txn) (*outcome, error) {
		var g DesignerGroupRecord
		if _, err := t.getJSON(t.k.dgroups(), name, &g, "designer_group", "designer group"); err != nil {
			return nil, err
		}
		if err := checkIfMatch(ifMatch, g, true); err != nil {
			return nil, err
		}
		members, err := t.tx.ZRange(t.ctx, t.k.dmembers(name), 0, -1).Result()
		if err != nil {
			return nil, err
		}
		for _, uid := range members {
			gs, err := t.stringList(t.k.dgroupsOf(), uid)
			if err != nil {
				return nil, err
			}
			t.setStringList(t.k.dgroupsOf(), uid, without(gs, name))
		}
		t.del(t.k.dmembers(name))
		t.hdel(t.k.dgroups(), name)
		removed, err := t.dropDesignerRoles(func(sk string, _ seqAssignment) bool { return sk == "g:"+name })
		if err != nil {
			return nil, err
		}
		return &outcome{action: "designer_group.deleted", target: "designer_group/" + name, before: g,
			after:  map[string]any{"members_removed": len(members), "designer_roles_removed": removed},
			change: Change{Users: members}}, nil
	})
}

// AddDesignerMembers adds users to a designer group.
func (s *Store) AddDesignerMembers(ctx context.Context, org, group string, users []string, a Actor) (int64, error) {
	if err := checkMemberList(users); err != nil {
		return 0, err
	}
	return s.write(ctx, org, a, func(t *txn) (*outcome, error) {
		if ok, err := t.hexists(t.k.dgroups(), group); err != nil || !ok {
			return nil, firstErr(err, verr.New(verr.NotFound, "designer_group", "no designer group %q", group))
		}
		added, err := t.addMembers(t.k.dmembers(group), t.k.dgroupsOf(), group, users)
		if err != nil {
			return nil, err
		}
		return &outcome{action: "designer_group.members_added", target: "designer_group/" + group,
			after: map[string]any{"added": added}, change: Change{Users: added}}, nil
	})
}

// RemoveDesignerMember removes one user from a designer group.
func (s *Store) RemoveDesignerMember(ctx context.Context, org, group, user string, a Actor) (int64, error) {
	return s.write(ctx, org, a, func(t *txn) (*outcome, error) {
		if ok, err := t.hexists(t.k.dgroups(), group); err != nil || !ok {
			return nil, firstErr(err, verr.New(verr.NotFound, "designer_group", "no designer group %q", group))
		}
		if err := t.removeMember(t.k.dmembers(group), t.k.dgroupsOf(), group, user); err != nil {
			return nil, err
		}
		return &outcome{action: "designer_group.member_removed", target: "designer_group/" + group + "/members/" + user,
			change: Change{Users: []string{user}}}, nil
	})
}

package domain

import (
	"context"
	"strings"

	"github.com/verdict-pdp/verdict/internal/orgdoc"
	"github.com/verdict-pdp/verdict/internal/store"
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
func (d *Admin) ListDesignerGroups(ctx context.Context, org, cursor string, limit int) (Page[DesignerGroupRecord], error) {
	return listRecords[DesignerGroupRecord](ctx, d, org, d.st.Keys(org).DGroups(), cursor, limit)
}

// GetDesignerGroup reads one designer group.
func (d *Admin) GetDesignerGroup(ctx context.Context, org, name string) (DesignerGroupRecord, error) {
	return getRecord[DesignerGroupRecord](ctx, d, org, d.st.Keys(org).DGroups(), name, "designer_group", "designer group")
}

// ListDesignerMembers pages through a designer group's members.
func (d *Admin) ListDesignerMembers(ctx context.Context, org, group, cursor string, limit int) (Page[string], error) {
	k := d.st.Keys(org)
	return d.listZset(ctx, org, k.DGroups(), group, k.DMembers(group), "designer_group", cursor, limit)
}

// CreateDesignerGroup creates a designer group, with its first members.
func (d *Admin) CreateDesignerGroup(ctx context.Context, org, name string, members []string, a store.Actor) (DesignerGroupRecord, int64, error) {
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
	rev, err := d.write(ctx, org, a, func(t *txn) (*store.Outcome, error) {
		if ok, err := t.HExists(t.k.DGroups(), name); err != nil || ok {
			return nil, firstErr(err, verr.New(verr.Conflict, "name", "designer group %q exists", name))
		}
		seq, err := t.Next()
		if err != nil {
			return nil, err
		}
		t.HSet(t.k.DGroups(), name, store.WithSeq(g, seq))
		added := []string{}
		if len(members) > 0 {
			if added, err = t.addMembers(t.k.DMembers(name), t.k.DGroupsOf(), name, members); err != nil {
				return nil, membersField(err)
			}
		}
		return &store.Outcome{Action: "designer_group.created", Target: "designer_group/" + name,
			After: map[string]any{"name": name, "members": added}, Change: store.Change{Users: added}}, nil
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
func (d *Admin) DeleteDesignerGroup(ctx context.Context, org, name, ifMatch string, a store.Actor) (int64, error) {
	return d.write(ctx, org, a, func(t *txn) (*store.Outcome, error) {
		var g DesignerGroupRecord
		if _, err := t.GetRecord(t.k.DGroups(), name, &g, "designer_group", "designer group"); err != nil {
			return nil, err
		}
		if err := checkIfMatch(ifMatch, g, true); err != nil {
			return nil, err
		}
		members, err := t.ZRange(t.k.DMembers(name))
		if err != nil {
			return nil, err
		}
		for _, uid := range members {
			gs, err := t.StringList(t.k.DGroupsOf(), uid)
			if err != nil {
				return nil, err
			}
			t.SetStringList(t.k.DGroupsOf(), uid, without(gs, name))
		}
		t.Del(t.k.DMembers(name))
		t.HDel(t.k.DGroups(), name)
		removed, err := t.dropDesignerRoles(func(sk string, _ store.SeqAssignment) bool { return sk == "g:"+name })
		if err != nil {
			return nil, err
		}
		return &store.Outcome{Action: "designer_group.deleted", Target: "designer_group/" + name, Before: g,
			After:  map[string]any{"members_removed": len(members), "designer_roles_removed": removed},
			Change: store.Change{Users: members}}, nil
	})
}

// AddDesignerMembers adds users to a designer group.
func (d *Admin) AddDesignerMembers(ctx context.Context, org, group string, users []string, a store.Actor) (int64, error) {
	if err := checkMemberList(users); err != nil {
		return 0, err
	}
	return d.write(ctx, org, a, func(t *txn) (*store.Outcome, error) {
		if ok, err := t.HExists(t.k.DGroups(), group); err != nil || !ok {
			return nil, firstErr(err, verr.New(verr.NotFound, "designer_group", "no designer group %q", group))
		}
		added, err := t.addMembers(t.k.DMembers(group), t.k.DGroupsOf(), group, users)
		if err != nil {
			return nil, err
		}
		return &store.Outcome{Action: "designer_group.members_added", Target: "designer_group/" + group,
			After: map[string]any{"added": added}, Change: store.Change{Users: added}}, nil
	})
}

// RemoveDesignerMember removes one user from a designer group.
func (d *Admin) RemoveDesignerMember(ctx context.Context, org, group, user string, a store.Actor) (int64, error) {
	return d.write(ctx, org, a, func(t *txn) (*store.Outcome, error) {
		if ok, err := t.HExists(t.k.DGroups(), group); err != nil || !ok {
			return nil, firstErr(err, verr.New(verr.NotFound, "designer_group", "no designer group %q", group))
		}
		if err := t.removeMember(t.k.DMembers(group), t.k.DGroupsOf(), group, user); err != nil {
			return nil, err
		}
		return &store.Outcome{Action: "designer_group.member_removed", Target: "designer_group/" + group + "/members/" + user,
			Change: store.Change{Users: []string{user}}}, nil
	})
}

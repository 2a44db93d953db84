package domain

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/verdict-pdp/verdict/internal/orgdoc"
	"github.com/verdict-pdp/verdict/internal/store"
	"github.com/verdict-pdp/verdict/internal/verr"
)

// Runtime groups: a record (name, attributes) in `groups`, members in the
// `members:<group>` sorted set and, for decisions, the reverse index
// `user_groups`. Both sides of membership change in the same transaction.

// GroupRecord is a group as the admin API shows it (members are listed
// separately, paginated).

// GroupPatch renames a group or replaces its attributes; nil stays.
type GroupPatch struct {
	Name       *string
	Attributes *map[string][]string
}

// groupNamePattern is DESIGN.md §1's group name rule (as in orgdoc).
var groupNamePattern = regexp.MustCompile(`^[A-Za-z0-9 _-]{1,64}$`)

// MaxMembersPerCall bounds the users one membership call adds.
const MaxMembersPerCall = 1000

// ListGroups pages through an org's groups.
func (d *Admin) ListGroups(ctx context.Context, org, cursor string, limit int) (Page[GroupRecord], error) {
	return listRecords[GroupRecord](ctx, d, org, d.st.Keys(org).Groups(), cursor, limit)
}

// GetGroup reads one group (without members).
func (d *Admin) GetGroup(ctx context.Context, org, name string) (GroupRecord, error) {
	return getRecord[GroupRecord](ctx, d, org, d.st.Keys(org).Groups(), name, "group", "group")
}

// ListMembers pages through a group's members, in the order they joined.
func (d *Admin) ListMembers(ctx context.Context, org, group, cursor string, limit int) (Page[string], error) {
	k := d.st.Keys(org)
	return d.listZset(ctx, org, k.Groups(), group, k.Members(group), "group", cursor, limit)
}

// listZset pages through a membership sorted set (score = position) after
// checking that its group exists.
func (d *Admin) listZset(ctx context.Context, org, groupsKey, group, key, what, cursor string, limit int) (Page[string], error) {
	after, limit, err := pageArgs(cursor, limit)
	if err != nil {
		return Page[string]{}, err
	}
	if _, err := d.st.ReadField(ctx, org, groupsKey, group, what, what); err != nil {
		return Page[string]{}, err
	}
	zs, err := d.st.MembersAfter(ctx, key, after, limit+1)
	if err != nil {
		return Page[string]{}, err
	}
	page := Page[string]{Items: []string{}}
	for i, z := range zs {
		if i == limit {
			page.NextCursor = itoa(zs[i-1].Seq)
			break
		}
		page.Items = append(page.Items, z.ID)
	}
	return page, nil
}

func checkGroupName(field, name string) error {
	if !groupNamePattern.MatchString(name) {
		return verr.New(verr.Invalid, field, "group name %q must match %s", name, groupNamePattern)
	}
	return nil
}

func checkAttributes(attrs map[string][]string) error {
	for k := range attrs {
		if k == "" {
			return verr.New(verr.Invalid, "attributes", "attribute keys must not be empty")
		}
	}
	return nil
}

// CreateGroup creates an empty group.
func (d *Admin) CreateGroup(ctx context.Context, org string, g GroupRecord, a store.Actor) (GroupRecord, int64, error) {
	if err := checkGroupName("name", g.Name); err != nil {
		return g, 0, err
	}
	if err := checkAttributes(g.Attributes); err != nil {
		return g, 0, err
	}
	rev, err := d.write(ctx, org, a, func(t *txn) (*store.Outcome, error) {
		if ok, err := t.HExists(t.k.Groups(), g.Name); err != nil || ok {
			return nil, firstErr(err, verr.New(verr.Conflict, "name", "group %q exists", g.Name))
		}
		seq, err := t.Next()
		if err != nil {
			return nil, err
		}
		t.HSet(t.k.Groups(), g.Name, store.WithSeq(g, seq))
		return &store.Outcome{Action: "group.created", Target: "group/" + g.Name, After: g, Change: store.Change{Groups: []string{g.Name}}}, nil
	})
	return g, rev, err
}

// UpdateGroup replaces a group's attributes and may rename it; a rename
// moves its members, the reverse index, and its shares and overrides in
// every environment, so nothing keeps the old name.
func (d *Admin) UpdateGroup(ctx context.Context, org, name string, p GroupPatch, ifMatch string, a store.Actor) (GroupRecord, int64, error) {
	var after GroupRecord
	rev, err := d.write(ctx, org, a, func(t *txn) (*store.Outcome, error) {
		var g GroupRecord
		seq, err := t.GetRecord(t.k.Groups(), name, &g, "group", "group")
		if err != nil {
			return nil, err
		}
		if err := checkIfMatch(ifMatch, g, true); err != nil {
			return nil, err
		}
		before := g
		if p.Attributes != nil {
			g.Attributes = *p.Attributes
			if err := checkAttributes(g.Attributes); err != nil {
				return nil, err
			}
		}
		ch := store.Change{Groups: []string{name}}
		if p.Name != nil && *p.Name != name {
			if err := t.renameGroup(name, *p.Name, &ch); err != nil {
				return nil, err
			}
			g.Name = *p.Name
			t.HDel(t.k.Groups(), name)
		}
		t.HSet(t.k.Groups(), g.Name, store.WithSeq(g, seq))
		after = g
		return &store.Outcome{Action: "group.updated", Target: "group/" + name, Before: before, After: g, Change: ch}, nil
	})
	return after, rev, err
}

func (t *txn) renameGroup(from, to string, ch *store.Change) error {
	if err := checkGroupName("name", to); err != nil {
		return err
	}
	if ok, err := t.HExists(t.k.Groups(), to); err != nil || ok {
		return firstErr(err, verr.New(verr.Conflict, "name", "group %q exists", to))
	}
	ch.Groups = append(ch.Groups, to)
	members, err := t.ZRangeWithSeq(t.k.Members(from))
	if err != nil {
		return err
	}
	for _, z := range members {
		uid := z.ID
		t.ZAdd(t.k.Members(to), uid, z.Seq)
		gs, err := t.StringList(t.k.UserGroups(), uid)
		if err != nil {
			return err
		}
		for i, g := range gs {
			if g == from {
				gs[i] = to
			}
		}
		t.SetStringList(t.k.UserGroups(), uid, gs)
		ch.Users = append(ch.Users, uid)
	}
	t.Del(t.k.Members(from))
	envs, err := t.allEnvs()
	if err != nil {
		return err
	}
	for _, e := range envs {
		moved := false
		if raw, ok := e.h[store.PrefixGroupShare+from]; ok {
			var sh orgdoc.Share
			if err := store.Decode(raw, &sh); err != nil {
				return err
			}
			sh.Subject.Group = to
			t.HDel(e.key, store.PrefixGroupShare+from)
			t.HSet(e.key, store.PrefixGroupShare+to, store.WithSeq(sh, store.SeqOf(raw)))
			moved = true
		}
		if raw, ok := e.h[store.PrefixGroupOverride+from]; ok {
			var o orgdoc.Override
			if err := store.Decode(raw, &o); err != nil {
				return err
			}
			o.Group = to
			t.HDel(e.key, store.PrefixGroupOverride+from)
			t.HSet(e.key, store.PrefixGroupOverride+to, store.WithSeq(o, store.SeqOf(raw)))
			moved = true
		}
		if raw, ok := e.h[store.PrefixShadowedGroupOverride+from]; ok {
			var list []json.RawMessage
			if err := store.Decode(raw, &list); err != nil {
				return err
			}
			parts := make([]string, len(list))
			for i, r := range list {
				var o orgdoc.Override
				if err := store.Decode(string(r), &o); err != nil {
					return err
				}
				o.Group = to
				parts[i] = store.WithSeq(o, store.SeqOf(string(r)))
			}
			t.HDel(e.key, store.PrefixShadowedGroupOverride+from)
			t.HSet(e.key, store.PrefixShadowedGroupOverride+to, "["+strings.Join(parts, ",")+"]")
			moved = true
		}
		if moved {
			ch.Projects = addUnique(ch.Projects, e.project)
		}
	}
	return nil
}

// DeleteGroup deletes a group, its memberships, and its shares and group
// overrides in every environment.
func (d *Admin) DeleteGroup(ctx context.Context, org, name, ifMatch string, a store.Actor) (int64, error) {
	return d.write(ctx, org, a, func(t *txn) (*store.Outcome, error) {
		var g GroupRecord
		if _, err := t.GetRecord(t.k.Groups(), name, &g, "group", "group"); err != nil {
			return nil, err
		}
		if err := checkIfMatch(ifMatch, g, true); err != nil {
			return nil, err
		}
		members, err := t.ZRange(t.k.Members(name))
		if err != nil {
			return nil, err
		}
		for _, uid := range members {
			gs, err := t.StringList(t.k.UserGroups(), uid)
			if err != nil {
				return nil, err
			}
			t.SetStringList(t.k.UserGroups(), uid, without(gs, name))
		}
		t.Del(t.k.Members(name))
		t.HDel(t.k.Groups(), name)
		envs, err := t.allEnvs()
		if err != nil {
			return nil, err
		}
		var projects []string
		for _, e := range envs {
			for _, f := range []string{store.PrefixGroupShare + name, store.PrefixGroupOverride + name, store.PrefixShadowedGroupOverride + name} {
				if _, ok := e.h[f]; ok {
					t.HDel(e.key, f)
					projects = addUnique(projects, e.project)
				}
			}
		}
		slices.Sort(projects)
		return &store.Outcome{Action: "group.deleted", Target: "group/" + name, Before: g,
			After:  map[string]any{"members_removed": len(members), "projects": projects},
			Change: store.Change{Groups: []string{name}, Users: members, Projects: projects}}, nil
	})
}

// AddMembers adds users to a group; users already in it are left as they
// are. An unknown user refuses the whole call (Invalid at users[i]).
func (d *Admin) AddMembers(ctx context.Context, org, group string, users []string, a store.Actor) (int64, error) {
	if err := checkMemberList(users); err != nil {
		return 0, err
	}
	return d.write(ctx, org, a, func(t *txn) (*store.Outcome, error) {
		if ok, err := t.HExists(t.k.Groups(), group); err != nil || !ok {
			return nil, firstErr(err, verr.New(verr.NotFound, "group", "no group %q", group))
		}
		added, err := t.addMembers(t.k.Members(group), t.k.UserGroups(), group, users)
		if err != nil {
			return nil, err
		}
		return &store.Outcome{Action: "group.members_added", Target: "group/" + group, After: map[string]any{"added": added},
			Change: store.Change{Groups: []string{group}, Users: added}}, nil
	})
}

// RemoveMember removes one user from a group (NotFound when not a member).
func (d *Admin) RemoveMember(ctx context.Context, org, group, user string, a store.Actor) (int64, error) {
	return d.write(ctx, org, a, func(t *txn) (*store.Outcome, error) {
		if ok, err := t.HExists(t.k.Groups(), group); err != nil || !ok {
			return nil, firstErr(err, verr.New(verr.NotFound, "group", "no group %q", group))
		}
		if err := t.removeMember(t.k.Members(group), t.k.UserGroups(), group, user); err != nil {
			return nil, err
		}
		return &store.Outcome{Action: "group.member_removed", Target: "group/" + group + "/members/" + user,
			Change: store.Change{Groups: []string{group}, Users: []string{user}}}, nil
	})
}

func checkMemberList(users []string) error {
	if len(users) == 0 {
		return verr.New(verr.Invalid, "users", "name at least one user")
	}
	if len(users) > MaxMembersPerCall {
		return verr.New(verr.InvalidInput, "users", "at most %d users per call", MaxMembersPerCall)
	}
	seen := map[string]bool{}
	for i, u := range users {
		if seen[u] {
			return verr.New(verr.Invalid, fmt.Sprintf("users[%d]", i), "duplicate user %q", u)
		}
		seen[u] = true
	}
	return nil
}

// addMembers adds known users to a membership set and its reverse index
// (shared by runtime and designer groups); it returns the users added.
func (t *txn) addMembers(membersKey, reverseKey, group string, users []string) ([]string, error) {
	exists := make([]store.BoolReply, len(users))
	lists := make([]store.FieldReply, len(users))
	b := t.Batch()
	for i, u := range users {
		exists[i] = b.HExists(t.k.Users(), u)
		lists[i] = b.HGet(reverseKey, u)
	}
	if err := b.Run(); err != nil {
		return nil, err
	}
	added := []string{}
	for i, u := range users {
		if !exists[i].Val() {
			return nil, verr.New(verr.Invalid, fmt.Sprintf("users[%d]", i), "unknown user %q", u)
		}
		var gs []string
		if raw, ok := lists[i].Val(); ok {
			if err := store.Decode(raw, &gs); err != nil {
				return nil, err
			}
		}
		if slices.Contains(gs, group) {
			continue
		}
		seq, err := t.Next()
		if err != nil {
			return nil, err
		}
		t.ZAdd(membersKey, u, seq)
		t.SetStringList(reverseKey, u, append(gs, group))
		added = append(added, u)
	}
	return added, nil
}

func (t *txn) removeMember(membersKey, reverseKey, group, user string) error {
	gs, err := t.StringList(reverseKey, user)
	if err != nil {
		return err
	}
	if !slices.Contains(gs, group) {
		return verr.New(verr.NotFound, "user", "user %q is not a member of %q", user, group)
	}
	t.ZRem(membersKey, user)
	t.SetStringList(reverseKey, user, without(gs, group))
	return nil
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

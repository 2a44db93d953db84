package domain

import (
	"context"
	"slices"
	"strings"

	"github.com/verdict-pdp/verdict/internal/orgdoc"
	"github.com/verdict-pdp/verdict/internal/store"
	"github.com/verdict-pdp/verdict/internal/verr"
)

// End users of the admin API. A user's username is unique (the `usernames`
// hash); deleting a user removes every fact that names it, in one
// transaction, so no share, membership or override is left dangling.

// UserPatch changes some fields of a user; nil fields stay as they are.
type UserPatch struct {
	Username       *string
	Email          *string
	Attributes     *map[string][]string
	DesignerUser   *bool
	ServiceAccount *bool
}

// maxIDLen bounds ids and names given to the admin API.
const maxIDLen = 256

// ListUsers pages through an org's users.
func (d *Admin) ListUsers(ctx context.Context, org, cursor string, limit int) (Page[orgdoc.User], error) {
	return listRecords[orgdoc.User](ctx, d, org, d.st.Keys(org).Users(), cursor, limit)
}

// GetUser reads one user.
func (d *Admin) GetUser(ctx context.Context, org, id string) (orgdoc.User, error) {
	return getRecord[orgdoc.User](ctx, d, org, d.st.Keys(org).Users(), id, "user", "user")
}

// CreateUser creates (invites) a user: status "invited" unless given.
func (d *Admin) CreateUser(ctx context.Context, org string, u orgdoc.User, a store.Actor) (orgdoc.User, int64, error) {
	if u.Status == "" {
		u.Status = orgdoc.StatusInvited
	}
	if err := checkUser(&u); err != nil {
		return u, 0, err
	}
	rev, err := d.write(ctx, org, a, func(t *txn) (*store.Outcome, error) {
		if ok, err := t.HExists(t.k.Users(), u.ID); err != nil || ok {
			return nil, firstErr(err, verr.New(verr.Conflict, "id", "user %q exists", u.ID))
		}
		if ok, err := t.HExists(t.k.Usernames(), u.Username); err != nil || ok {
			return nil, firstErr(err, verr.New(verr.Conflict, "username", "username %q is taken", u.Username))
		}
		seq, err := t.Next()
		if err != nil {
			return nil, err
		}
		t.HSet(t.k.Users(), u.ID, store.WithSeq(u, seq))
		t.HSet(t.k.Usernames(), u.Username, u.ID)
		return &store.Outcome{Action: "user.created", Target: "user/" + u.ID, After: u, Change: store.Change{Users: []string{u.ID}}}, nil
	})
	return u, rev, err
}

// checkUser applies the user rules of orgdoc to one user.
func checkUser(u *orgdoc.User) error {
	switch {
	case u.ID == "":
		return verr.New(verr.Invalid, "id", "user id is required")
	case len(u.ID) > maxIDLen:
		return verr.New(verr.Invalid, "id", "user id is longer than %d bytes", maxIDLen)
	case strings.TrimSpace(u.Username) == "":
		return verr.New(verr.Invalid, "username", "username is required")
	case len(u.Username) > maxIDLen:
		return verr.New(verr.Invalid, "username", "username is longer than %d bytes", maxIDLen)
	}
	switch u.Status {
	case orgdoc.StatusInvited, orgdoc.StatusActive, orgdoc.StatusDisabled:
	default:
		e := verr.New(verr.Invalid, "status", "status %q must be one of invited, active, disabled", u.Status)
		e.Allowed = []string{orgdoc.StatusInvited, orgdoc.StatusActive, orgdoc.StatusDisabled}
		return e
	}
	for k := range u.Attributes {
		if k == "" {
			return verr.New(verr.Invalid, "attributes", "attribute keys must not be empty")
		}
	}
	return nil
}

// UpdateUser changes a user's username, email, attributes or flags. A new
// username moves the user's username overrides with it: they were given to
// this person, and a later user taking the old name must not inherit them.
func (d *Admin) UpdateUser(ctx context.Context, org, id string, p UserPatch, ifMatch string, a store.Actor) (orgdoc.User, int64, error) {
	var after orgdoc.User
	rev, err := d.write(ctx, org, a, func(t *txn) (*store.Outcome, error) {
		var u orgdoc.User
		seq, err := t.GetRecord(t.k.Users(), id, &u, "user", "user")
		if err != nil {
			return nil, err
		}
		if err := checkIfMatch(ifMatch, u, true); err != nil {
			return nil, err
		}
		before := u
		if p.Email != nil {
			u.Email = *p.Email
		}
		if p.Attributes != nil {
			u.Attributes = *p.Attributes
		}
		if p.DesignerUser != nil {
			u.DesignerUser = *p.DesignerUser
		}
		if p.ServiceAccount != nil {
			u.ServiceAccount = *p.ServiceAccount
		}
		ch := store.Change{Users: []string{id}}
		if p.Username != nil && *p.Username != u.Username {
			u.Username = *p.Username
			if err := checkUser(&u); err != nil {
				return nil, err
			}
			if ok, err := t.HExists(t.k.Usernames(), u.Username); err != nil || ok {
				return nil, firstErr(err, verr.New(verr.Conflict, "username", "username %q is taken", u.Username))
			}
			t.HDel(t.k.Usernames(), before.Username)
			t.HSet(t.k.Usernames(), u.Username, id)
			projects, err := t.moveUsernameOverrides(before.Username, u.Username)
			if err != nil {
				return nil, err
			}
			ch.Projects = projects
		} else if err := checkUser(&u); err != nil {
			return nil, err
		}
		t.HSet(t.k.Users(), id, store.WithSeq(u, seq))
		after = u
		return &store.Outcome{Action: "user.updated", Target: "user/" + id, Before: before, After: u, Change: ch}, nil
	})
	return after, rev, err
}

// moveUsernameOverrides renames uo:<from> to uo:<to> in every environment
// and returns the projects touched.
func (t *txn) moveUsernameOverrides(from, to string) ([]string, error) {
	envs, err := t.allEnvs()
	if err != nil {
		return nil, err
	}
	var projects []string
	for _, e := range envs {
		raw, ok := e.h[store.PrefixUsernameOverride+from]
		if !ok {
			continue
		}
		var o orgdoc.Override
		if err := store.Decode(raw, &o); err != nil {
			return nil, err
		}
		o.Username = to
		t.HDel(e.key, store.PrefixUsernameOverride+from)
		t.HSet(e.key, store.PrefixUsernameOverride+to, store.WithSeq(o, store.SeqOf(raw)))
		projects = addUnique(projects, e.project)
	}
	return projects, nil
}

// SetUserStatus activates or disables (or re-invites) a user.
func (d *Admin) SetUserStatus(ctx context.Context, org, id, status, ifMatch string, a store.Actor) (orgdoc.User, int64, error) {
	var after orgdoc.User
	rev, err := d.write(ctx, org, a, func(t *txn) (*store.Outcome, error) {
		var u orgdoc.User
		seq, err := t.GetRecord(t.k.Users(), id, &u, "user", "user")
		if err != nil {
			return nil, err
		}
		if err := checkIfMatch(ifMatch, u, true); err != nil {
			return nil, err
		}
		before := u
		u.Status = status
		if err := checkUser(&u); err != nil {
			return nil, err
		}
		t.HSet(t.k.Users(), id, store.WithSeq(u, seq))
		after = u
		return &store.Outcome{Action: "user." + status, Target: "user/" + id, Before: before, After: u, Change: store.Change{Users: []string{id}}}, nil
	})
	return after, rev, err
}

// DeleteUser deletes a user and every fact naming it: group and designer
// group memberships, shares in every environment, legacy grants, designer
// role assignments, its username overrides and its flow permission entries.
func (d *Admin) DeleteUser(ctx context.Context, org, id, ifMatch string, a store.Actor) (int64, error) {
	return d.write(ctx, org, a, func(t *txn) (*store.Outcome, error) {
		var u orgdoc.User
		if _, err := t.GetRecord(t.k.Users(), id, &u, "user", "user"); err != nil {
			return nil, err
		}
		if err := checkIfMatch(ifMatch, u, true); err != nil {
			return nil, err
		}
		groups, err := t.StringList(t.k.UserGroups(), id)
		if err != nil {
			return nil, err
		}
		for _, g := range groups {
			t.ZRem(t.k.Members(g), id)
		}
		t.HDel(t.k.UserGroups(), id)
		dgroups, err := t.StringList(t.k.DGroupsOf(), id)
		if err != nil {
			return nil, err
		}
		for _, g := range dgroups {
			t.ZRem(t.k.DMembers(g), id)
		}
		t.HDel(t.k.DGroupsOf(), id)
		t.HDel(t.k.Legacy(), id)
		t.HDel(t.k.DRoles(), "u:"+id)
		t.HDel(t.k.Usernames(), u.Username)
		t.HDel(t.k.Users(), id)
		// last_seen is written apart by the PDP (lastseen.go); a new user
		// given this id later must not inherit the old sighting.
		t.HDel(t.k.LastSeen(), id)
		t.HDel(t.k.Uninvited(), id)
		if err := t.forgetJustificationsOf(orgdoc.Subject{User: id}); err != nil {
			return nil, err
		}
		envs, err := t.allEnvs()
		if err != nil {
			return nil, err
		}
		var projects []string
		for _, e := range envs {
			for _, f := range []string{store.PrefixUserShare + id, store.PrefixUsernameOverride + u.Username} {
				if _, ok := e.h[f]; ok {
					t.HDel(e.key, f)
					projects = addUnique(projects, e.project)
				}
			}
		}
		for _, pe := range t.sortedProjects() {
			if dropFlowEntries(pe.rec.FlowPermissions, func(fe *orgdoc.FlowEntries) bool { return deleteKey(fe.Users, id) }) {
				pe.dirty = true
				projects = addUnique(projects, pe.rec.ID)
			}
		}
		slices.Sort(projects)
		return &store.Outcome{Action: "user.deleted", Target: "user/" + id, Before: u,
			After:  map[string]any{"groups": groups, "designer_groups": dgroups, "projects": projects},
			Change: store.Change{Users: []string{id}, Groups: groups, Projects: projects}}, nil
	})
}

// dropFlowEntries applies drop to the defaults and every flow's entries of
// fp and reports whether any changed. Entries left empty are kept: an empty
// flow entry is valid and says the same as none.
func dropFlowEntries(fp *orgdoc.FlowPermissions, drop func(*orgdoc.FlowEntries) bool) bool {
	if fp == nil {
		return false
	}
	changed := false
	if fp.Defaults != nil && drop(fp.Defaults) {
		changed = true
	}
	for id, fe := range fp.Flows {
		if drop(&fe) {
			fp.Flows[id] = fe
			changed = true
		}
	}
	return changed
}

func deleteKey(m map[string]string, k string) bool {
	if _, ok := m[k]; ok {
		delete(m, k)
		return true
	}
	return false
}

// firstErr returns err when set, else alt: reads that fail report the
// failure, not the rule.
func firstErr(err error, alt error) error {
	if err != nil {
		return err
	}
	return alt
}

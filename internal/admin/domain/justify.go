package domain

import (
	"context"
	"strings"
	"time"

	"github.com/verdict-pdp/verdict/internal/orgdoc"
	"github.com/verdict-pdp/verdict/internal/store"
	"github.com/verdict-pdp/verdict/internal/verr"
)

// Records about records, kept apart from the org document (store/apart.go):
// why a designer role assignment exists (seed 003: "maintain role
// assignment justifications"), and which users a migration created without
// an invitation. Legacy grants can be removed one by one once shares
// replace them (the post-upgrade checklist).

// JustifiedAssignment is a designer role assignment with the justification
// recorded on it.
type JustifiedAssignment struct {
	DesignerAssignment
	Justification *store.Justification `json:"justification"`
}

// GetJustification reads the justification recorded on designer role
// assignment id (see GetDesignerRole for project); a nil Justification
// when none was recorded.
func (d *Admin) GetJustification(ctx context.Context, org, project string, id int64) (JustifiedAssignment, error) {
	da, err := d.GetDesignerRole(ctx, org, project, id)
	if err != nil {
		return JustifiedAssignment{}, err
	}
	raw, err := d.st.ReadApart(ctx, d.st.Keys(org).Justifications())
	if err != nil {
		return JustifiedAssignment{}, err
	}
	out := JustifiedAssignment{DesignerAssignment: da}
	if v, ok := raw[store.JustificationKey(da.Subject, da.Role, da.Scope)]; ok {
		out.Justification = &store.Justification{}
		if err := store.Decode(v, out.Justification); err != nil {
			return JustifiedAssignment{}, err
		}
	}
	return out, nil
}

// JustifyDesignerRole records a.Justification (required) on designer role
// assignment id, replacing any earlier one; the audit entry
// (designer_role.justified) carries it too.
func (d *Admin) JustifyDesignerRole(ctx context.Context, org, project string, id int64, a store.Actor) (JustifiedAssignment, int64, error) {
	var out JustifiedAssignment
	if strings.TrimSpace(a.Justification) == "" {
		return out, 0, verr.New(verr.Invalid, "justification", "a justification is required (the body's \"justification\" or the X-Justification header)")
	}
	rev, err := d.write(ctx, org, a, func(t *txn) (*store.Outcome, error) {
		h, err := t.HGetAll(t.k.DRoles())
		if err != nil {
			return nil, err
		}
		all, err := assignments(h)
		if err != nil {
			return nil, err
		}
		da, err := findAssignment(all, project, id)
		if err != nil {
			return nil, err
		}
		key := store.JustificationKey(da.Subject, da.Role, da.Scope)
		var before *store.Justification
		if raw, ok, err := t.HGet(t.k.Justifications(), key); err != nil {
			return nil, err
		} else if ok {
			before = &store.Justification{}
			if err := store.Decode(raw, before); err != nil {
				return nil, err
			}
		}
		j := t.recordJustification(da, a)
		out = JustifiedAssignment{DesignerAssignment: da, Justification: j}
		return &store.Outcome{Action: "designer_role.justified", Target: "designer_role/" + itoa(id), Before: before, After: out}, nil
	})
	return out, rev, err
}

// recordJustification queues the justification of assignment da.
func (t *txn) recordJustification(da DesignerAssignment, a store.Actor) *store.Justification {
	j := &store.Justification{Text: a.Justification, Actor: a.Subject, Time: time.Now().UTC().Format(time.RFC3339), Assignment: da.ID}
	t.HSetApart(t.k.Justifications(), store.JustificationKey(da.Subject, da.Role, da.Scope), store.MustJSON(j))
	return j
}

// forgetJustification queues removing the justification of an assignment
// that goes (or is made anew without one).
func (t *txn) forgetJustification(s orgdoc.Subject, role string, sc orgdoc.Scope) {
	t.HDel(t.k.Justifications(), store.JustificationKey(s, role, sc))
}

// RecordInvitation records that user was invited (the platform sent the
// IdP's invitation email): a user the migration created without one stops
// being listed by the post-upgrade checklist. Audited as user.invited.
func (d *Admin) RecordInvitation(ctx context.Context, org, user string, a store.Actor) (int64, error) {
	return d.write(ctx, org, a, func(t *txn) (*store.Outcome, error) {
		var u orgdoc.User
		if _, err := t.GetRecord(t.k.Users(), user, &u, "user", "user"); err != nil {
			return nil, err
		}
		var before any
		if raw, ok, err := t.HGet(t.k.Uninvited(), user); err != nil {
			return nil, err
		} else if ok {
			var un store.UninvitedUser
			if err := store.Decode(raw, &un); err != nil {
				return nil, err
			}
			before = map[string]any{"uninvited": un}
			t.HDel(t.k.Uninvited(), user)
		}
		return &store.Outcome{Action: "user.invited", Target: "user/" + user, Before: before,
			After: map[string]any{"invited": true, "email": u.Email}}, nil
	})
}

// DeleteLegacyGrant removes the legacy grant of role to user.
func (d *Admin) DeleteLegacyGrant(ctx context.Context, org, user, role string, a store.Actor) (int64, error) {
	return d.write(ctx, org, a, func(t *txn) (*store.Outcome, error) {
		var rs []store.SeqRole
		raw, ok, err := t.HGet(t.k.Legacy(), user)
		if err != nil {
			return nil, err
		}
		if ok {
			if err := store.Decode(raw, &rs); err != nil {
				return nil, err
			}
		}
		kept := rs[:0:0]
		for _, r := range rs {
			if r.Role != role {
				kept = append(kept, r)
			}
		}
		if len(kept) == len(rs) {
			return nil, verr.New(verr.NotFound, "legacy_grant", "user %q has no legacy grant of %q", user, role)
		}
		if len(kept) == 0 {
			t.HDel(t.k.Legacy(), user)
		} else {
			t.HSet(t.k.Legacy(), user, store.MustJSON(kept))
		}
		return &store.Outcome{Action: "legacy_grant.deleted", Target: "user/" + user + "/legacy-grants/" + role,
			Before: orgdoc.LegacyGrant{User: user, Role: role}, Change: store.Change{Users: []string{user}}}, nil
	})
}

// forgetJustificationsOf queues removing every justification of a subject's
// assignments (the subject goes).
func (t *txn) forgetJustificationsOf(s orgdoc.Subject) error {
	h, err := t.HGetAll(t.k.Justifications())
	if err != nil {
		return err
	}
	t.HDel(t.k.Justifications(), store.FieldsWithPrefix(h, store.SubjectKey(s)+"|")...)
	return nil
}

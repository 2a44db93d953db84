package domain

import (
	"context"
	"strings"

	"github.com/verdict-pdp/verdict/internal/orgdoc"
	"github.com/verdict-pdp/verdict/internal/store"
	"github.com/verdict-pdp/verdict/internal/verr"
)

// The active policy of (project, env): the default build or branch, and
// overrides by username and by group (priority required, unique). Role
// overrides are deprecated (DESIGN.md §2 rule 3): existing ones are listed,
// marked deprecated, and can be deleted; new ones are refused. Every write
// to the active policy honours If-Match against the ETag of the whole
// active policy, which is what a client GETs before changing it.

// ActivePolicy is the active policy as the admin API shows it.
type ActivePolicy struct {
	Default   orgdoc.Policy  `json:"default"`
	Overrides []OverrideView `json:"overrides"`
}

// OverrideView is an override, marked deprecated when it is a role override.
type OverrideView struct {
	orgdoc.Override
	Deprecated bool `json:"deprecated,omitempty"`
}

// policyOf renders the active policy held by an environment hash.
func policyOf(h map[string]string) (ActivePolicy, bool) {
	if _, ok := h[store.FieldActivePolicy]; !ok {
		return ActivePolicy{}, false
	}
	e := store.EnvFromHash(h)
	ap := ActivePolicy{Default: e.ActivePolicy.Default, Overrides: []OverrideView{}}
	for _, o := range e.ActivePolicy.Overrides {
		ap.Overrides = append(ap.Overrides, OverrideView{Override: o, Deprecated: o.Type == orgdoc.OverrideRole})
	}
	return ap, true
}

// GetActivePolicy reads the active policy of (project, env).
func (d *Admin) GetActivePolicy(ctx context.Context, org, project, env string) (ActivePolicy, error) {
	h, err := d.readEnv(ctx, org, project, env)
	if err != nil {
		return ActivePolicy{}, err
	}
	ap, ok := policyOf(h)
	if !ok {
		return ap, verr.New(verr.NotFound, "active_policy", "no active policy for project %s in %s", project, env)
	}
	return ap, nil
}

// policyTxn is an active policy write: the environment hash as read, kept
// up to date with the queued writes so the result can be shown.
type policyTxn struct {
	*txn
	pe  *projectEntry
	env string
	key string
	h   map[string]string
}

func (p *policyTxn) set(f, v string) { p.HSet(p.key, f, v); p.h[f] = v }
func (p *policyTxn) unset(f string)  { p.HDel(p.key, f); delete(p.h, f) }

func (p *policyTxn) buildExists(id string) (bool, error) {
	return p.HExists(p.k.Builds(p.pe.rec.ID), id)
}

// policyWrite runs fn on the active policy of (project, env) after the
// If-Match check, and returns the active policy it leaves.
func (d *Admin) policyWrite(ctx context.Context, org, project, env, ifMatch string, a store.Actor,
	fn func(p *policyTxn, cur ActivePolicy, exists bool) (*store.Outcome, error)) (ActivePolicy, int64, error) {
	var after ActivePolicy
	rev, err := d.write(ctx, org, a, func(t *txn) (*store.Outcome, error) {
		pe, err := t.project(project)
		if err != nil {
			return nil, err
		}
		if err := t.checkEnvName(env); err != nil {
			return nil, err
		}
		p := &policyTxn{txn: t, pe: pe, env: env, key: t.k.Env(project, env), h: map[string]string{}}
		if _, p.h, err = t.envHash(pe, env); err != nil && verr.CodeOf(err) != verr.NotFound {
			return nil, err
		}
		if p.h == nil {
			p.h = map[string]string{}
		}
		cur, exists := policyOf(p.h)
		if err := checkIfMatch(ifMatch, cur, exists); err != nil {
			return nil, err
		}
		out, err := fn(p, cur, exists)
		if err != nil {
			return nil, err
		}
		after, _ = policyOf(p.h)
		out.Target = "project/" + project + "/environments/" + env + "/active_policy" + out.Target
		out.Change.Projects = append(out.Change.Projects, project)
		return out, nil
	})
	return after, rev, err
}

// PutDefaultPolicy sets the default of the active policy (creating the
// active policy, with no overrides, when there is none).
func (d *Admin) PutDefaultPolicy(ctx context.Context, org, project, env string, pol orgdoc.Policy, ifMatch string, a store.Actor) (ActivePolicy, int64, error) {
	return d.policyWrite(ctx, org, project, env, ifMatch, a, func(p *policyTxn, cur ActivePolicy, exists bool) (*store.Outcome, error) {
		if err := checkPolicy("", pol, p.buildExists); err != nil {
			return nil, err
		}
		seq := store.SeqOf(p.h[store.FieldActivePolicy])
		if !exists {
			var err error
			if seq, err = p.Next(); err != nil {
				return nil, err
			}
		}
		if _, err := p.envForWrite(p.pe, p.env); err != nil {
			return nil, err
		}
		p.set(store.FieldActivePolicy, store.WithSeq(map[string]any{"default": pol}, seq))
		var before any
		if exists {
			before = cur.Default
		}
		return &store.Outcome{Action: "active_policy.default_set", Target: "/default", Before: before, After: pol}, nil
	})
}

// PutOverride creates or replaces a username or group override. Role
// overrides are deprecated and refused.
func (d *Admin) PutOverride(ctx context.Context, org, project, env string, ov orgdoc.Override, ifMatch string, a store.Actor) (ActivePolicy, int64, error) {
	return d.policyWrite(ctx, org, project, env, ifMatch, a, func(p *policyTxn, cur ActivePolicy, exists bool) (*store.Outcome, error) {
		f, ch, err := p.checkOverride(ov)
		if err != nil {
			return nil, err
		}
		if !exists {
			return nil, verr.New(verr.Invalid, "active_policy", "project %s has no active policy in %s: set its default first", project, env)
		}
		if err := checkPolicy("policy", ov.Policy, p.buildExists); err != nil {
			return nil, err
		}
		raw, had := p.h[f]
		seq := store.SeqOf(raw)
		if !had {
			if seq, err = p.Next(); err != nil {
				return nil, err
			}
		}
		var before any
		if had {
			var o orgdoc.Override
			if err := store.Decode(raw, &o); err != nil {
				return nil, err
			}
			before = o
		}
		p.set(f, store.WithSeq(ov, seq))
		if ov.Type == orgdoc.OverrideGroup {
			// The group's one override from now on: others an imported
			// document listed for it go too.
			if _, ok := p.h[store.PrefixShadowedGroupOverride+ov.Group]; ok {
				p.unset(store.PrefixShadowedGroupOverride + ov.Group)
			}
		}
		return &store.Outcome{Action: "active_policy.override_put", Target: "/overrides/" + ov.Type + "/" + ov.Username + ov.Group,
			Before: before, After: ov, Change: ch}, nil
	})
}

// checkOverride applies orgdoc's override rules to a new override and
// returns its field and the change it makes.
func (p *policyTxn) checkOverride(ov orgdoc.Override) (string, store.Change, error) {
	extra := func(name, val string, allowed bool) error {
		if val != "" && !allowed {
			return verr.New(verr.Invalid, name, "%s is not allowed on a %s override", name, ov.Type)
		}
		return nil
	}
	switch ov.Type {
	case orgdoc.OverrideRole:
		return "", store.Change{}, verr.New(verr.Invalid, "type", "role overrides are deprecated: use a group override")
	case orgdoc.OverrideUsername, orgdoc.OverrideGroup:
	default:
		e := verr.New(verr.Invalid, "type", "override type %q must be one of username, group", ov.Type)
		e.Allowed = []string{orgdoc.OverrideUsername, orgdoc.OverrideGroup}
		return "", store.Change{}, e
	}
	for _, e := range []error{
		extra("username", ov.Username, ov.Type == orgdoc.OverrideUsername),
		extra("group", ov.Group, ov.Type == orgdoc.OverrideGroup),
		extra("role", ov.Role, false),
	} {
		if e != nil {
			return "", store.Change{}, e
		}
	}
	if ov.Type == orgdoc.OverrideUsername {
		// A username override always wins (rule 3): a priority would suggest otherwise.
		if ov.Priority != nil {
			return "", store.Change{}, verr.New(verr.Invalid, "priority", "priority is not allowed on a username override")
		}
		uid, ok, err := p.HGet(p.k.Usernames(), ov.Username)
		if err != nil || !ok {
			return "", store.Change{}, firstErr(err, verr.New(verr.Invalid, "username", "unknown username %q", ov.Username))
		}
		return store.PrefixUsernameOverride + ov.Username, store.Change{Users: []string{uid}}, nil
	}
	if ok, err := p.HExists(p.k.Groups(), ov.Group); err != nil || !ok {
		return "", store.Change{}, firstErr(err, verr.New(verr.Invalid, "group", "unknown group %q", ov.Group))
	}
	if ov.Priority == nil {
		return "", store.Change{}, verr.New(verr.Invalid, "priority", "priority is required on a group override")
	}
	// Rule 3 picks the lowest priority number among a user's groups: equal
	// numbers would leave the choice undefined.
	// The group's own overrides are replaced, so only other groups' count.
	for f, raw := range p.h {
		var others []orgdoc.Override
		switch {
		case f == store.PrefixGroupOverride+ov.Group || f == store.PrefixShadowedGroupOverride+ov.Group:
			continue
		case strings.HasPrefix(f, store.PrefixGroupOverride):
			var o orgdoc.Override
			if err := store.Decode(raw, &o); err != nil {
				return "", store.Change{}, err
			}
			others = []orgdoc.Override{o}
		case strings.HasPrefix(f, store.PrefixShadowedGroupOverride):
			if err := store.Decode(raw, &others); err != nil {
				return "", store.Change{}, err
			}
		}
		for _, o := range others {
			if o.Priority != nil && *o.Priority == *ov.Priority {
				return "", store.Change{}, verr.New(verr.Conflict, "priority", "priority %d is already used by the override of group %q", *ov.Priority, o.Group)
			}
		}
	}
	return store.PrefixGroupOverride + ov.Group, store.Change{Groups: []string{ov.Group}}, nil
}

// DeleteOverride deletes the override of a username, a group or (the
// deprecated ones) a role: typ is orgdoc.OverrideUsername, OverrideGroup or
// OverrideRole.
func (d *Admin) DeleteOverride(ctx context.Context, org, project, env, typ, name, ifMatch string, a store.Actor) (ActivePolicy, int64, error) {
	return d.policyWrite(ctx, org, project, env, ifMatch, a, func(p *policyTxn, cur ActivePolicy, exists bool) (*store.Outcome, error) {
		notFound := verr.New(verr.NotFound, "override", "no %s override for %q", typ, name)
		ch := store.Change{}
		var before any
		switch typ {
		case orgdoc.OverrideUsername, orgdoc.OverrideGroup:
			f := store.PrefixUsernameOverride + name
			if typ == orgdoc.OverrideGroup {
				f, ch.Groups = store.PrefixGroupOverride+name, []string{name}
			} else if uid, ok, _ := p.HGet(p.k.Usernames(), name); ok {
				ch.Users = []string{uid}
			}
			raw, ok := p.h[f]
			if !ok {
				return nil, notFound
			}
			var o orgdoc.Override
			if err := store.Decode(raw, &o); err != nil {
				return nil, err
			}
			before = o
			p.unset(f)
			if _, ok := p.h[store.PrefixShadowedGroupOverride+name]; ok && typ == orgdoc.OverrideGroup {
				p.unset(store.PrefixShadowedGroupOverride + name)
			}
		case orgdoc.OverrideRole:
			list, err := roleOverrides(p.h)
			if err != nil {
				return nil, err
			}
			kept := list[:0:0]
			for _, ro := range list {
				if ro.o.Role != name {
					kept = append(kept, ro)
				}
			}
			if len(kept) == len(list) {
				return nil, notFound
			}
			p.setRoleOverrides(p.key, kept)
			if len(kept) > 0 {
				p.h[store.FieldRoleOverride] = roleOverridesJSON(kept)
			} else {
				delete(p.h, store.FieldRoleOverride)
			}
			before = orgdoc.Override{Type: orgdoc.OverrideRole, Role: name}
		default:
			return nil, verr.New(verr.InvalidInput, "type", "override type %q must be one of username, group, role", typ)
		}
		return &store.Outcome{Action: "active_policy.override_deleted", Target: "/overrides/" + typ + "/" + name, Before: before, Change: ch}, nil
	})
}

// DeleteActivePolicy deletes the active policy of (project, env) with all
// its overrides: the environment then serves no build.
func (d *Admin) DeleteActivePolicy(ctx context.Context, org, project, env, ifMatch string, a store.Actor) (int64, error) {
	_, rev, err := d.policyWrite(ctx, org, project, env, ifMatch, a, func(p *policyTxn, cur ActivePolicy, exists bool) (*store.Outcome, error) {
		if !exists {
			return nil, verr.New(verr.NotFound, "active_policy", "no active policy for project %s in %s", project, env)
		}
		for f := range p.h {
			if f == store.FieldActivePolicy || f == store.FieldRoleOverride || strings.HasPrefix(f, store.PrefixUsernameOverride) ||
				strings.HasPrefix(f, store.PrefixGroupOverride) || strings.HasPrefix(f, store.PrefixShadowedGroupOverride) {
				p.unset(f)
			}
		}
		return &store.Outcome{Action: "active_policy.deleted", Before: cur}, nil
	})
	return rev, err
}

func roleOverridesJSON(list []seqOverride) string {
	parts := make([]string, len(list))
	for i, ro := range list {
		parts[i] = store.WithSeq(ro.o, ro.seq)
	}
	return "[" + strings.Join(parts, ",") + "]"
}

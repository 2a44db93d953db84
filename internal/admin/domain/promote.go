package domain

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"

	"github.com/verdict-pdp/verdict/internal/orgdoc"
	"github.com/verdict-pdp/verdict/internal/store"
	"github.com/verdict-pdp/verdict/internal/verr"
)

// Promotion of a project's runtime settings from one environment to
// another (dev -> uat -> prod): the step seed 002 says must be redone by
// hand on every deployment, since shares and active-policy overrides are
// never carried by a build. The default of the active policy (which build
// is served), the username and group overrides and the shares of the
// source are copied to the target, so that the target decides as the
// source does for everyone they name. Deprecated role overrides are never
// copied. What only the target has is kept, or removed with Prune.
//
// A share is refused when the target's active build (the one it serves
// after the promotion) lacks one of its roles: it would grant nothing, and
// the admin API never creates such a share. A refusal refuses the whole
// promotion; otherwise it is applied in one transaction, audited once
// (environment.promoted, with the target's settings before and after).

// PromotionOptions say what to promote.
type PromotionOptions struct {
	From, To string
	// Prune removes the target's shares and username/group overrides that
	// the source does not have.
	Prune bool
	// KeepDefault keeps the target's default policy (its build was promoted
	// by other means); shares are then checked against that build.
	KeepDefault bool
}

// PromotionPlan is the diff of a promotion, applied or not.
type PromotionPlan struct {
	Project string `json:"project"`
	From    string `json:"from"`
	To      string `json:"to"`
	Applied bool   `json:"applied"`
	// Revision the plan was computed at (dry run) or produced (applied).
	Revision int64 `json:"revision"`
	// TargetBuild is the build the target's default serves after the
	// promotion ("" when none), the catalog shares are checked against.
	TargetBuild string `json:"target_build"`
	// Items: every record of the target that the promotion adds, changes,
	// removes or leaves (op "same" or "kept"), in the order default,
	// overrides, shares.
	Items   []PlanItem `json:"items"`
	Refused []Refusal  `json:"refused"`
}

// Plan item operations.
const (
	OpAdd    = "add"
	OpChange = "change"
	OpRemove = "remove" // only with Prune
	OpSame   = "same"
	OpKeep   = "kept" // only in the target, kept (no Prune)
)

// PlanItem is one record of the target and what happens to it.
type PlanItem struct {
	Op     string `json:"op"`
	Kind   string `json:"kind"`   // "default", "username_override", "group_override", "share"
	Target string `json:"target"` // the record, as an admin API path under the project's target environment
	Before any    `json:"before,omitempty"`
	After  any    `json:"after,omitempty"`
}

// Refusal is a share of the source the target's active build cannot hold,
// or an override that collides in the target.
type Refusal struct {
	Target  string   `json:"target"`
	Message string   `json:"message"`
	Missing []string `json:"missing,omitempty"` // roles the target build lacks
	Allowed []string `json:"allowed,omitempty"` // the target build's roles
}

// Changes counts the items that change the target.
func (p *PromotionPlan) Changes() int {
	n := 0
	for _, it := range p.Items {
		if it.Op == OpAdd || it.Op == OpChange || it.Op == OpRemove {
			n++
		}
	}
	return n
}

// PlanPromotion computes the promotion without writing anything.
func (d *Admin) PlanPromotion(ctx context.Context, org, project string, o PromotionOptions) (*PromotionPlan, error) {
	rec, err := d.GetProject(ctx, org, project)
	if err != nil {
		return nil, err
	}
	st, err := d.st.Settings(ctx, org)
	if err != nil {
		return nil, err
	}
	if err := checkPromotionEnvs(st.Environments, rec.Environments, o); err != nil {
		return nil, err
	}
	k := d.st.Keys(org)
	hs, err := d.st.ReadHashes(ctx, org, k.Env(project, o.From), k.Env(project, o.To), k.Builds(project))
	if err != nil {
		return nil, err
	}
	to := hs[1]
	if !slices.Contains(rec.Environments, o.To) {
		to = map[string]string{}
	}
	rev, err := d.st.Revision(ctx, org)
	if err != nil {
		return nil, err
	}
	p, _, err := plan(project, o, hs[0], to, hs[2])
	if err != nil {
		return nil, err
	}
	p.Revision = rev
	return p, nil
}

// Promote applies a promotion in one transaction; a plan with refusals is
// refused as a whole (Invalid at "shares" or "overrides"), nothing changed.
func (d *Admin) Promote(ctx context.Context, org, project string, o PromotionOptions, a store.Actor) (*PromotionPlan, error) {
	var out *PromotionPlan
	rev, err := d.write(ctx, org, a, func(t *txn) (*store.Outcome, error) {
		pe, err := t.project(project)
		if err != nil {
			return nil, err
		}
		if err := checkPromotionEnvs(t.Settings().Environments, pe.rec.Environments, o); err != nil {
			return nil, err
		}
		from, err := t.HGetAll(t.k.Env(project, o.From))
		if err != nil {
			return nil, err
		}
		to := map[string]string{}
		if slices.Contains(pe.rec.Environments, o.To) {
			if to, err = t.HGetAll(t.k.Env(project, o.To)); err != nil {
				return nil, err
			}
		}
		builds, err := t.HGetAll(t.k.Builds(project))
		if err != nil {
			return nil, err
		}
		p, writes, err := plan(project, o, from, to, builds)
		if err != nil {
			return nil, err
		}
		if len(p.Refused) > 0 {
			r := p.Refused[0]
			field := "shares"
			if !strings.Contains(r.Target, "/shares/") {
				field = "overrides"
			}
			e := verr.New(verr.Invalid, field, "%d record(s) of %s cannot be promoted to %s; first: %s: %s", len(p.Refused), o.From, o.To, r.Target, r.Message)
			e.Allowed = r.Allowed
			return nil, e
		}
		key, err := t.envForWrite(pe, o.To)
		if err != nil {
			return nil, err
		}
		ch := store.Change{Projects: []string{project}}
		for _, w := range writes {
			switch {
			case w.del:
				t.HDel(key, w.field)
			default:
				seq := w.seq
				if seq == 0 {
					if seq, err = t.Next(); err != nil {
						return nil, err
					}
				}
				t.HSet(key, w.field, store.WithSeq(w.value, seq))
			}
			switch {
			case strings.HasPrefix(w.field, store.PrefixUserShare):
				ch.Users = addUnique(ch.Users, strings.TrimPrefix(w.field, store.PrefixUserShare))
			case strings.HasPrefix(w.field, store.PrefixGroupShare), strings.HasPrefix(w.field, store.PrefixGroupOverride):
				ch.Groups = addUnique(ch.Groups, w.field[3:])
			case strings.HasPrefix(w.field, store.PrefixUsernameOverride), w.field == store.FieldActivePolicy:
				ch.All = true // who a username or the default concerns is not listed
			}
		}
		p.Applied = true
		out = p
		return &store.Outcome{Action: "environment.promoted", Target: "project/" + project + "/environments/" + o.To,
			Before: map[string]any{"environment": store.EnvFromHash(to)},
			After:  map[string]any{"from": o.From, "prune": o.Prune, "keep_default": o.KeepDefault, "changes": p.Changes(), "items": changedItems(p.Items)},
			Change: ch}, nil
	})
	if err != nil {
		return nil, err
	}
	out.Revision = rev
	return out, nil
}

func changedItems(items []PlanItem) []PlanItem {
	out := []PlanItem{}
	for _, it := range items {
		if it.Op != OpSame && it.Op != OpKeep {
			out = append(out, it)
		}
	}
	return out
}

func checkPromotionEnvs(orgEnvs, projectEnvs []string, o PromotionOptions) error {
	switch {
	case o.From == "":
		return verr.New(verr.InvalidInput, "from", "required")
	case o.To == "":
		return verr.New(verr.InvalidInput, "to", "required")
	case o.From == o.To:
		return verr.New(verr.Invalid, "to", "from and to are the same environment")
	case len(orgEnvs) > 0 && !slices.Contains(orgEnvs, o.To):
		return verr.New(verr.NotFound, "to", "no environment %q in the org", o.To)
	case !slices.Contains(projectEnvs, o.From):
		return verr.New(verr.NotFound, "from", "the project has no settings in environment %q", o.From)
	}
	return nil
}

// write is one field of the target environment to set or delete; seq is
// the position to keep (0: a new record).
type write struct {
	field  string
	value  any
	seq    int64
	del    bool
	srcSeq int64 // position in the source: new records keep its order
}

// plan computes the diff of a promotion from the source and target
// environment hashes and the project's builds.
func plan(project string, o PromotionOptions, from, to, builds map[string]string) (*PromotionPlan, []write, error) {
	p := &PromotionPlan{Project: project, From: o.From, To: o.To, Items: []PlanItem{}, Refused: []Refusal{}}
	base := "projects/" + project + "/environments/" + o.To
	var writes []write
	fromDefault, fromHas, err := defaultOf(from)
	if err != nil {
		return nil, nil, err
	}
	toDefault, toHas, err := defaultOf(to)
	if err != nil {
		return nil, nil, err
	}
	if !fromHas {
		return nil, nil, verr.New(verr.Invalid, "from", "%s has no active policy: there is nothing to promote", o.From)
	}
	if o.KeepDefault && !toHas {
		return nil, nil, verr.New(verr.Invalid, "keep_default", "%s has no active policy to keep: promote its default too", o.To)
	}
	served := toDefault
	if !o.KeepDefault {
		served = fromDefault
		it := PlanItem{Kind: "default", Target: base + "/active-policy/default", After: fromDefault}
		switch {
		case !toHas:
			it.Op = OpAdd
		case reflect.DeepEqual(toDefault, fromDefault):
			it.Op = OpSame
		default:
			it.Op, it.Before = OpChange, toDefault
		}
		p.Items = append(p.Items, it)
		if it.Op != OpSame {
			writes = append(writes, write{field: store.FieldActivePolicy, value: map[string]any{"default": fromDefault}, seq: store.SeqOf(to[store.FieldActivePolicy])})
		}
	}
	catalog, buildID, err := catalogOf(served, builds)
	if err != nil {
		return nil, nil, err
	}
	p.TargetBuild = buildID
	for _, kind := range []struct{ prefix, name, path string }{
		{store.PrefixUsernameOverride, "username_override", "/active-policy/overrides/usernames/"},
		{store.PrefixGroupOverride, "group_override", "/active-policy/overrides/groups/"},
		{store.PrefixUserShare, "share", "/shares/users/"},
		{store.PrefixGroupShare, "share", "/shares/groups/"},
	} {
		ws, err := p.diff(kind.prefix, kind.name, base+kind.path, from, to, o, catalog, buildID, served)
		if err != nil {
			return nil, nil, err
		}
		writes = append(writes, ws...)
	}
	p.checkPriorities(from, to, o, base)
	sort.SliceStable(writes, func(i, j int) bool { return writes[i].srcSeq < writes[j].srcSeq })
	return p, writes, nil
}

// defaultOf reads the default policy of an environment hash.
func defaultOf(h map[string]string) (orgdoc.Policy, bool, error) {
	raw, ok := h[store.FieldActivePolicy]
	if !ok {
		return orgdoc.Policy{}, false, nil
	}
	var ap struct{ Default orgdoc.Policy }
	return ap.Default, true, store.Decode(raw, &ap)
}

// catalogOf returns the roles and id of the build policy serves.
func catalogOf(pol orgdoc.Policy, builds map[string]string) ([]string, string, error) {
	if pol == (orgdoc.Policy{}) {
		return nil, "", nil
	}
	var pr orgdoc.Project
	for _, raw := range builds {
		var b orgdoc.Build
		if err := store.Decode(raw, &b); err != nil {
			return nil, "", err
		}
		pr.Builds = append(pr.Builds, b)
	}
	b := pr.PolicyBuild(pol)
	if b == nil {
		return nil, "", nil
	}
	return b.Roles, b.ID, nil
}

// diff compares the records of one kind (fields with prefix) of the source
// and target and returns the writes that make the target hold the source's.
func (p *PromotionPlan) diff(prefix, kind, path string, from, to map[string]string, o PromotionOptions, catalog []string, buildID string, served orgdoc.Policy) ([]write, error) {
	var writes []write
	decode := func(raw string) (any, error) {
		if kind == "share" {
			var s orgdoc.Share
			return s, store.Decode(raw, &s)
		}
		var ov orgdoc.Override
		return ov, store.Decode(raw, &ov)
	}
	for _, f := range sortedFields(from, prefix) {
		src, err := decode(from[f])
		if err != nil {
			return nil, err
		}
		name := strings.TrimPrefix(f, prefix)
		it := PlanItem{Kind: kind, Target: path + name, After: src}
		if kind == "share" {
			if r := refuseShare(src.(orgdoc.Share), catalog, buildID, served); r != nil {
				r.Target = it.Target
				p.Refused = append(p.Refused, *r)
			}
		}
		raw, exists := to[f]
		switch {
		case !exists:
			it.Op = OpAdd
			writes = append(writes, write{field: f, value: src, srcSeq: store.SeqOf(from[f])})
		default:
			dst, err := decode(raw)
			if err != nil {
				return nil, err
			}
			if reflect.DeepEqual(dst, src) {
				it.Op = OpSame
			} else {
				it.Op, it.Before = OpChange, dst
				writes = append(writes, write{field: f, value: src, seq: store.SeqOf(raw)})
			}
		}
		p.Items = append(p.Items, it)
	}
	for _, f := range sortedFields(to, prefix) {
		if _, ok := from[f]; ok {
			continue
		}
		dst, err := decode(to[f])
		if err != nil {
			return nil, err
		}
		it := PlanItem{Kind: kind, Target: path + strings.TrimPrefix(f, prefix), Before: dst, Op: OpKeep}
		if o.Prune {
			it.Op = OpRemove
			writes = append(writes, write{field: f, del: true})
		}
		p.Items = append(p.Items, it)
	}
	return writes, nil
}

// refuseShare says why a share cannot be promoted (nil when it can).
func refuseShare(s orgdoc.Share, catalog []string, buildID string, served orgdoc.Policy) *Refusal {
	var missing []string
	for _, r := range s.Roles {
		if !slices.Contains(catalog, r) {
			missing = append(missing, r)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	r := &Refusal{Missing: missing, Allowed: append([]string{}, catalog...)}
	if buildID == "" {
		r.Message = fmt.Sprintf("the target serves no build (%s): it cannot be shared %s", policyText(served), strings.Join(missing, ", "))
	} else {
		r.Message = fmt.Sprintf("the target's active build %s does not list %s", buildID, strings.Join(missing, ", "))
	}
	return r
}

func policyText(p orgdoc.Policy) string {
	switch {
	case p.Build != "":
		return "build " + p.Build
	case p.LatestOnBranch != "":
		return "no build on branch " + p.LatestOnBranch
	}
	return "no active policy"
}

// checkPriorities refuses group overrides whose priority another group
// override of the target would share after the promotion.
func (p *PromotionPlan) checkPriorities(from, to map[string]string, o PromotionOptions, base string) {
	final := map[string]string{} // group -> override JSON after the promotion
	for _, f := range sortedFields(to, store.PrefixGroupOverride) {
		if _, inFrom := from[f]; !inFrom && o.Prune {
			continue
		}
		final[f] = to[f]
	}
	for _, f := range sortedFields(from, store.PrefixGroupOverride) {
		final[f] = from[f]
	}
	byPriority := map[int][]string{}
	for _, f := range sortedFields(final, store.PrefixGroupOverride) {
		var ov orgdoc.Override
		if store.Decode(final[f], &ov) != nil || ov.Priority == nil {
			continue
		}
		byPriority[*ov.Priority] = append(byPriority[*ov.Priority], ov.Group)
	}
	prios := make([]int, 0, len(byPriority))
	for n := range byPriority {
		prios = append(prios, n)
	}
	sort.Ints(prios)
	for _, n := range prios {
		groups := byPriority[n]
		if len(groups) < 2 {
			continue
		}
		for _, g := range groups {
			if _, promoted := from[store.PrefixGroupOverride+g]; promoted {
				p.Refused = append(p.Refused, Refusal{Target: base + "/active-policy/overrides/groups/" + g,
					Message: fmt.Sprintf("priority %d would be shared with the group override of %s in %s (priorities are unique): change one, or promote with prune", n, strings.Join(without(groups, g), ", "), o.To)})
			}
		}
	}
}

// sortedFields lists the fields of h with prefix, by position then name.
func sortedFields(h map[string]string, prefix string) []string {
	fs := store.FieldsWithPrefix(h, prefix)
	sort.Slice(fs, func(i, j int) bool {
		si, sj := store.SeqOf(h[fs[i]]), store.SeqOf(h[fs[j]])
		if si != sj {
			return si < sj
		}
		return fs[i] < fs[j]
	})
	return fs
}

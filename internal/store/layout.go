package store

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/verdict-pdp/verdict/internal/orgdoc"
)

// sink is where an org's layout goes: in memory (content, for PutOrg) or
// straight into Redis temporary keys (streamWriter, for ImportOrg). Both
// are fed by orgLayout, so both write the same keys, fields and values.
type sink interface {
	hset(key, field, value string)
	zadd(key, member string, score int64)
	// appendJSON appends elem (a JSON value) to the JSON list held in
	// field of hash key, creating the list: the reverse indexes
	// (user_groups, dgroups_of) and per-subject lists (legacy, droles) are
	// built one entry at a time, in document order.
	appendJSON(key, field, elem string)
	// err is the first failure of the sink so far (writing to Redis).
	err() error
}

// content is the data of an org laid out in keys: hashes (field -> value)
// and sorted sets (member -> score). It is what PutOrg writes.
type content struct {
	hashes map[string]map[string]string
	zsets  map[string]map[string]float64
	lists  map[string]map[string][]string // appendJSON, until finish
	seq    int64
}

func newContent() *content {
	return &content{hashes: map[string]map[string]string{}, zsets: map[string]map[string]float64{}, lists: map[string]map[string][]string{}}
}

func (c *content) hset(key, field, value string) {
	h := c.hashes[key]
	if h == nil {
		h = map[string]string{}
		c.hashes[key] = h
	}
	h[field] = value
}

func (c *content) zadd(key, member string, score int64) {
	z := c.zsets[key]
	if z == nil {
		z = map[string]float64{}
		c.zsets[key] = z
	}
	z[member] = float64(score)
}

func (c *content) appendJSON(key, field, elem string) {
	l := c.lists[key]
	if l == nil {
		l = map[string][]string{}
		c.lists[key] = l
	}
	l[field] = append(l[field], elem)
}

func (c *content) err() error { return nil }

// finish writes the lists into their hashes: "[" elems joined by "," "]",
// which is what json.Marshal writes for the list of those values.
func (c *content) finish() {
	for key, l := range c.lists {
		for f, elems := range l {
			c.hset(key, f, "["+strings.Join(elems, ",")+"]")
		}
	}
	c.lists = nil
}

// MustJSON renders v as JSON (the records the store writes always encode).
func MustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// OrgSettings is the org-level settings (the "org" hash).
type OrgSettings struct {
	Environments []string           `json:"environments"`
	Workspaces   []orgdoc.Workspace `json:"workspaces"`
}

// ProjectRecord is a project without its builds and environments, plus the
// names of the environments it has settings in.
type ProjectRecord struct {
	ID              string                  `json:"id"`
	Workspace       string                  `json:"workspace"`
	FlowPermissions *orgdoc.FlowPermissions `json:"flow_permissions,omitempty"`
	Environments    []string                `json:"environments"`
}

// GroupRecord is a group without its members (kept in a sorted set).
type GroupRecord struct {
	Name       string              `json:"name"`
	Attributes map[string][]string `json:"attributes,omitempty"`
}

// SeqRole is one legacy grant in a user's list in `legacy`, with its
// position.
type SeqRole struct {
	Role string `json:"role"`
	Seq  int64  `json:"#"`
}

// SeqAssignment is one designer role assignment in a subject's list in
// `droles`, with its position (its id in the admin API).
type SeqAssignment struct {
	Seq   int64        `json:"#"`
	Role  string       `json:"role"`
	Scope orgdoc.Scope `json:"scope"`
}

// layout lays out a validated org document in keys (docs/redis-keys.md).
func layout(k Keys, o *orgdoc.Org) (*content, *orgLayout) {
	c := newContent()
	l := &orgLayout{k: k, w: c}
	_ = o.Walk(l) // content never fails
	c.finish()
	c.seq = l.seq
	return c, l
}

// orgLayout lays out an org in keys (docs/redis-keys.md), part by part as an
// orgdoc.OrgHandler: from an org in memory (Org.Walk, PutOrg) or from a
// streamed document (Stream.Decode, ImportOrg). Every record gets the next
// position ("#", the scores of members) in the order of Org's fields.
type orgLayout struct {
	k   Keys
	w   sink
	seq int64
	// open makes k and w when the org id is known (ImportOrg); nil when
	// they are given.
	open func(org string) (Keys, sink, error)

	group     string // the group being laid out
	groupJSON string
	groupSeq  int64

	org                     string
	users, groups, projects int
	builds                  []projectBuilds
}

// projectBuilds names a project's builds, to check at commit that existing
// builds keep their manifests (builds are immutable).
type projectBuilds struct {
	index int // in the document's projects, for the error path
	id    string
	ids   []string
}

func (l *orgLayout) next() int64 { l.seq++; return l.seq }

func (l *orgLayout) Settings(org string, envs []string, ws []orgdoc.Workspace) error {
	l.org = org
	if l.open != nil {
		k, w, err := l.open(org)
		if err != nil {
			return err
		}
		l.k, l.w = k, w
	}
	l.w.hset(l.k.Org(), "settings", MustJSON(OrgSettings{Environments: nonNil(envs), Workspaces: ws}))
	return l.w.err()
}

func (l *orgLayout) User(u *orgdoc.User) error {
	l.w.hset(l.k.Users(), u.ID, WithSeq(u, l.next()))
	l.w.hset(l.k.Usernames(), u.Username, u.ID)
	l.users++
	return l.w.err()
}

func (l *orgLayout) Role(r *orgdoc.Role) error {
	l.w.hset(l.k.Roles(), r.Name, WithSeq(r, l.next()))
	return l.w.err()
}

// startGroup gives the group's record its position, before its members'.
func (l *orgLayout) startGroup(name string) error {
	l.group, l.groupJSON, l.groupSeq = name, MustJSON(name), l.next()
	return l.w.err()
}

// addMembers adds members to the group's sorted set (key) and the group to
// each member's reverse index (hash rev).
func (l *orgLayout) addMembers(key, rev string, ids []string) error {
	for _, m := range ids {
		l.w.zadd(key, m, l.next())
		l.w.appendJSON(rev, m, l.groupJSON)
	}
	return l.w.err()
}

func (l *orgLayout) GroupStart(name string) error { return l.startGroup(name) }

func (l *orgLayout) GroupMembers(ids []string) error {
	return l.addMembers(l.k.Members(l.group), l.k.UserGroups(), ids)
}

func (l *orgLayout) GroupEnd(g *orgdoc.Group) error {
	l.w.hset(l.k.Groups(), g.Name, WithSeq(GroupRecord{Name: g.Name, Attributes: g.Attributes}, l.groupSeq))
	l.groups++
	return l.w.err()
}

func (l *orgLayout) LegacyGrant(lg *orgdoc.LegacyGrant) error {
	l.w.appendJSON(l.k.Legacy(), lg.User, MustJSON(SeqRole{Role: lg.Role, Seq: l.next()}))
	return l.w.err()
}

func (l *orgLayout) DesignerGroupStart(name string) error { return l.startGroup(name) }

func (l *orgLayout) DesignerGroupMembers(ids []string) error {
	return l.addMembers(l.k.DMembers(l.group), l.k.DGroupsOf(), ids)
}

func (l *orgLayout) DesignerGroupEnd(g *orgdoc.DesignerGroup) error {
	l.w.hset(l.k.DGroups(), g.Name, WithSeq(map[string]string{"name": g.Name}, l.groupSeq))
	return l.w.err()
}

func (l *orgLayout) DesignerRole(d *orgdoc.DesignerRole) error {
	l.w.appendJSON(l.k.DRoles(), SubjectKey(d.Subject), MustJSON(SeqAssignment{Seq: l.next(), Role: d.Role, Scope: d.Scope}))
	return l.w.err()
}

func (l *orgLayout) Project(p *orgdoc.Project) error {
	rec := ProjectRecord{ID: p.ID, Workspace: p.Workspace, FlowPermissions: p.FlowPermissions, Environments: []string{}}
	if len(p.Builds) > 0 {
		pb := projectBuilds{index: l.projects, id: p.ID, ids: make([]string, len(p.Builds))}
		for i, b := range p.Builds {
			l.w.hset(l.k.Builds(p.ID), b.ID, WithSeq(b, l.next()))
			pb.ids[i] = b.ID
		}
		l.builds = append(l.builds, pb)
	}
	for _, name := range sortedEnvNames(p.Environments) {
		rec.Environments = append(rec.Environments, name)
		l.env(l.k.Env(p.ID, name), p.Environments[name])
	}
	l.w.hset(l.k.Projects(), p.ID, WithSeq(rec, l.next()))
	l.projects++
	return l.w.err()
}

func (l *orgLayout) BusinessFilter(f *orgdoc.BusinessFilter) error {
	l.w.hset(l.k.Filters(), f.ID, WithSeq(f, l.next()))
	return l.w.err()
}

func (l *orgLayout) env(key string, e *orgdoc.Environment) {
	// A marker field so that an environment with no policy and no shares
	// still exists as a key.
	l.w.hset(key, "env", "1")
	if e == nil {
		return
	}
	if ap := e.ActivePolicy; ap != nil {
		l.w.hset(key, FieldActivePolicy, WithSeq(map[string]any{"default": ap.Default}, l.next()))
		var roleOverrides []string
		winners := groupOverrideWinners(ap.Overrides)
		shadowed := map[string][]string{}
		for i, o := range ap.Overrides {
			v := WithSeq(o, l.next())
			switch {
			case o.Type == orgdoc.OverrideUsername:
				l.w.hset(key, PrefixUsernameOverride+o.Username, v)
			case o.Type == orgdoc.OverrideGroup && winners[o.Group] == i:
				l.w.hset(key, PrefixGroupOverride+o.Group, v)
			case o.Type == orgdoc.OverrideGroup:
				shadowed[o.Group] = append(shadowed[o.Group], v)
			default:
				roleOverrides = append(roleOverrides, v)
			}
		}
		for g, list := range shadowed {
			l.w.hset(key, PrefixShadowedGroupOverride+g, "["+strings.Join(list, ",")+"]")
		}
		if len(roleOverrides) > 0 {
			l.w.hset(key, FieldRoleOverride, "["+strings.Join(roleOverrides, ",")+"]")
		}
	}
	for _, s := range e.Shares {
		f := PrefixUserShare + s.Subject.User
		if s.Subject.Group != "" {
			f = PrefixGroupShare + s.Subject.Group
		}
		l.w.hset(key, f, WithSeq(s, l.next()))
	}
}

// groupOverrideWinners returns, per group, the index of its override with
// the lowest priority number: the one rule 3 uses when a group has several.
// The decision path reads go:<group> only, so that is the one stored there;
// the others are kept in gx:<group> for export and the admin API.
func groupOverrideWinners(ovs []orgdoc.Override) map[string]int {
	w := map[string]int{}
	for i, o := range ovs {
		if o.Type != orgdoc.OverrideGroup || o.Priority == nil {
			continue
		}
		if j, ok := w[o.Group]; ok && *ovs[j].Priority <= *o.Priority {
			continue
		}
		w[o.Group] = i
	}
	return w
}

// SubjectKey names a subject in `droles`: "u:<user>" or "g:<group>".
func SubjectKey(s orgdoc.Subject) string {
	if s.User != "" {
		return "u:" + s.User
	}
	return "g:" + s.Group
}

func join(xs []string, sep string) string { return strings.Join(xs, sep) }

func nonNil(xs []string) []string {
	if xs == nil {
		return []string{}
	}
	return xs
}

func sortedEnvNames(m map[string]*orgdoc.Environment) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// sameManifest compares two stored builds, ignoring their positions.
func sameManifest(a, b string) bool {
	var x, y map[string]any
	if json.Unmarshal([]byte(a), &x) != nil || json.Unmarshal([]byte(b), &y) != nil {
		return false
	}
	delete(x, "#")
	delete(y, "#")
	return MustJSON(prune(x)) == MustJSON(prune(y))
}

// prune drops empty values (null, [], {}) so that omitted and empty compare
// alike.
func prune(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, e := range x {
			if p := prune(e); p != nil {
				out[k] = p
			}
		}
		if len(out) == 0 {
			return nil
		}
		return out
	case []any:
		if len(x) == 0 {
			return nil
		}
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = prune(e)
		}
		return out
	default:
		return v
	}
}

func pathf(format string, args ...any) string { return fmt.Sprintf(format, args...) }

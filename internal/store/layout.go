package store

import (
	"encoding/json"
	"fmt"
	"sort"

	"github.com/verdict-pdp/verdict/internal/orgdoc"
)

// content is the data of an org laid out in keys: hashes (field -> value)
// and sorted sets (member -> score). It is what an import writes.
type content struct {
	hashes map[string]map[string]string
	zsets  map[string]map[string]float64
	seq    int64
}

func (c *content) hset(key, field, value string) {
	h := c.hashes[key]
	if h == nil {
		h = map[string]string{}
		c.hashes[key] = h
	}
	h[field] = value
}

func (c *content) zadd(key, member string) {
	z := c.zsets[key]
	if z == nil {
		z = map[string]float64{}
		c.zsets[key] = z
	}
	c.seq++
	z[member] = float64(c.seq)
}

func (c *content) next() int64 { c.seq++; return c.seq }

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// orgRecord is the org-level settings (the "org" hash).
type orgRecord struct {
	Environments []string           `json:"environments"`
	Workspaces   []orgdoc.Workspace `json:"workspaces"`
}

// projectRecord is a project without its builds and environments, plus the
// names of the environments it has settings in.
type projectRecord struct {
	ID              string                  `json:"id"`
	Workspace       string                  `json:"workspace"`
	FlowPermissions *orgdoc.FlowPermissions `json:"flow_permissions,omitempty"`
	Environments    []string                `json:"environments"`
}

// groupRecord is a group without its members (kept in a sorted set).
type groupRecord struct {
	Name       string              `json:"name"`
	Attributes map[string][]string `json:"attributes,omitempty"`
}

type seqRole struct {
	Role string `json:"role"`
	Seq  int64  `json:"#"`
}

type seqAssignment struct {
	Seq   int64        `json:"#"`
	Role  string       `json:"role"`
	Scope orgdoc.Scope `json:"scope"`
}

// layout lays out a validated org document in keys (docs/redis-keys.md).
func layout(k keys, o *orgdoc.Org) *content {
	c := &content{hashes: map[string]map[string]string{}, zsets: map[string]map[string]float64{}}
	c.hset(k.org(), "settings", mustJSON(orgRecord{Environments: nonNil(o.Environments), Workspaces: o.Workspaces}))
	for _, u := range o.Users {
		c.hset(k.users(), u.ID, withSeq(u, c.next()))
		c.hset(k.usernames(), u.Username, u.ID)
	}
	for _, r := range o.Roles {
		c.hset(k.roles(), r.Name, withSeq(r, c.next()))
	}
	userGroups := map[string][]string{}
	for _, g := range o.Groups {
		c.hset(k.groups(), g.Name, withSeq(groupRecord{Name: g.Name, Attributes: g.Attributes}, c.next()))
		for _, m := range g.Members {
			c.zadd(k.members(g.Name), m)
			userGroups[m] = append(userGroups[m], g.Name)
		}
	}
	for u, gs := range userGroups {
		c.hset(k.userGroups(), u, mustJSON(gs))
	}
	legacy := map[string][]seqRole{}
	for _, lg := range o.LegacyGrants {
		legacy[lg.User] = append(legacy[lg.User], seqRole{Role: lg.Role, Seq: c.next()})
	}
	for u, rs := range legacy {
		c.hset(k.legacy(), u, mustJSON(rs))
	}
	dgroupsOf := map[string][]string{}
	for _, g := range o.DesignerGroups {
		c.hset(k.dgroups(), g.Name, withSeq(map[string]string{"name": g.Name}, c.next()))
		for _, m := range g.Members {
			c.zadd(k.dmembers(g.Name), m)
			dgroupsOf[m] = append(dgroupsOf[m], g.Name)
		}
	}
	for u, gs := range dgroupsOf {
		c.hset(k.dgroupsOf(), u, mustJSON(gs))
	}
	droles := map[string][]seqAssignment{}
	for _, d := range o.DesignerRoles {
		sk := subjectKey(d.Subject)
		droles[sk] = append(droles[sk], seqAssignment{Seq: c.next(), Role: d.Role, Scope: d.Scope})
	}
	for sk, as := range droles {
		c.hset(k.droles(), sk, mustJSON(as))
	}
	for _, p := range o.Projects {
		rec := projectRecord{ID: p.ID, Workspace: p.Workspace, FlowPermissions: p.FlowPermissions, Environments: []string{}}
		for _, b := range p.Builds {
			c.hset(k.builds(p.ID), b.ID, withSeq(b, c.next()))
		}
		for _, name := range sortedEnvNames(p.Environments) {
			rec.Environments = append(rec.Environments, name)
			layoutEnv(c, k.env(p.ID, name), p.Environments[name])
		}
		c.hset(k.projects(), p.ID, withSeq(rec, c.next()))
	}
	for _, f := range o.BusinessFilters {
		c.hset(k.filters(), f.ID, withSeq(f, c.next()))
	}
	return c
}

func layoutEnv(c *content, key string, e *orgdoc.Environment) {
	// A marker field so that an environment with no policy and no shares
	// still exists as a key.
	c.hset(key, "env", "1")
	if e == nil {
		return
	}
	if ap := e.ActivePolicy; ap != nil {
		c.hset(key, fieldActivePolicy, withSeq(map[string]any{"default": ap.Default}, c.next()))
		var roleOverrides []string
		for _, o := range ap.Overrides {
			v := withSeq(o, c.next())
			switch o.Type {
			case orgdoc.OverrideUsername:
				c.hset(key, prefixUsernameOvr+o.Username, v)
			case orgdoc.OverrideGroup:
				c.hset(key, prefixGroupOvr+o.Group, v)
			default:
				roleOverrides = append(roleOverrides, v)
			}
		}
		if len(roleOverrides) > 0 {
			c.hset(key, fieldRoleOverride, "["+join(roleOverrides, ",")+"]")
		}
	}
	for _, s := range e.Shares {
		f := prefixUserShare + s.Subject.User
		if s.Subject.Group != "" {
			f = prefixGroupShare + s.Subject.Group
		}
		c.hset(key, f, withSeq(s, c.next()))
	}
}

func subjectKey(s orgdoc.Subject) string {
	if s.User != "" {
		return "u:" + s.User
	}
	return "g:" + s.Group
}

func join(xs []string, sep string) string {
	out := ""
	for i, x := range xs {
		if i > 0 {
			out += sep
		}
		out += x
	}
	return out
}

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

// sameBuild compares a stored build with a document's, ignoring the stored
// position.
func sameBuild(raw string, b orgdoc.Build) bool {
	var stored map[string]any
	if json.Unmarshal([]byte(raw), &stored) != nil {
		return false
	}
	delete(stored, "#")
	var doc any
	_ = json.Unmarshal([]byte(mustJSON(b)), &doc)
	return mustJSON(prune(stored)) == mustJSON(prune(doc))
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

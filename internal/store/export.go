package store

import (
	"context"
	"encoding/json"
	"sort"
	"strings"

	"github.com/redis/go-redis/v9"
	"github.com/verdict-pdp/verdict/internal/orgdoc"
	"github.com/verdict-pdp/verdict/internal/verr"
)

// GetOrg exports an org as a document, with its revision. Lists come back in
// the order they were written (imported documents export as imported).
// Everything is read in one MULTI so the export is a consistent snapshot.
func (s *Store) GetOrg(ctx context.Context, org string) (*orgdoc.Org, int64, error) {
	k := s.keys(org)
	index, err := s.rdb.SMembers(ctx, k.Index()).Result()
	if err != nil {
		return nil, 0, unavailable(err)
	}
	if len(index) == 0 {
		return nil, 0, verr.New(verr.NotFound, "org", "no org %q", org)
	}
	hashes := map[string]*redis.MapStringStringCmd{}
	zsets := map[string]*redis.StringSliceCmd{}
	var revCmd *redis.StringCmd
	_, err = s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		revCmd = p.Get(ctx, k.Rev())
		for _, key := range index {
			if isZset(k, key) {
				zsets[key] = p.ZRange(ctx, key, 0, -1)
			} else {
				hashes[key] = p.HGetAll(ctx, key)
			}
		}
		return nil
	})
	if err != nil && err != redis.Nil {
		return nil, 0, unavailable(err)
	}
	rev, _ := revCmd.Int64()
	h := func(key string) map[string]string {
		if c, ok := hashes[key]; ok {
			return c.Val()
		}
		return nil
	}
	z := func(key string) []string {
		if c, ok := zsets[key]; ok {
			return c.Val()
		}
		return nil
	}
	o := &orgdoc.Org{Org: org}
	var settings OrgSettings
	_ = json.Unmarshal([]byte(h(k.Org())["settings"]), &settings)
	o.Environments, o.Workspaces = settings.Environments, settings.Workspaces
	if len(o.Environments) == 0 {
		o.Environments = nil
	}
	seen, _ := s.rdb.HGetAll(ctx, k.LastSeen()).Result()
	for _, raw := range ordered(h(k.Users())) {
		var u orgdoc.User
		_ = json.Unmarshal([]byte(raw), &u)
		// Decisions keep last_seen apart (batched writes); the export shows it.
		if t, ok := seen[u.ID]; ok {
			u.LastSeen = t
		}
		o.Users = append(o.Users, u)
	}
	for _, raw := range ordered(h(k.Roles())) {
		var r orgdoc.Role
		_ = json.Unmarshal([]byte(raw), &r)
		o.Roles = append(o.Roles, r)
	}
	for _, raw := range ordered(h(k.Groups())) {
		var g GroupRecord
		_ = json.Unmarshal([]byte(raw), &g)
		o.Groups = append(o.Groups, orgdoc.Group{Name: g.Name, Attributes: g.Attributes, Members: z(k.Members(g.Name))})
	}
	type seqGrant struct {
		seq int64
		g   orgdoc.LegacyGrant
	}
	var grants []seqGrant
	for user, raw := range h(k.Legacy()) {
		var rs []SeqRole
		_ = json.Unmarshal([]byte(raw), &rs)
		for _, r := range rs {
			grants = append(grants, seqGrant{r.Seq, orgdoc.LegacyGrant{User: user, Role: r.Role}})
		}
	}
	sort.Slice(grants, func(i, j int) bool { return grants[i].seq < grants[j].seq })
	for _, g := range grants {
		o.LegacyGrants = append(o.LegacyGrants, g.g)
	}
	for _, raw := range ordered(h(k.DGroups())) {
		var g struct{ Name string }
		_ = json.Unmarshal([]byte(raw), &g)
		o.DesignerGroups = append(o.DesignerGroups, orgdoc.DesignerGroup{Name: g.Name, Members: z(k.DMembers(g.Name))})
	}
	type seqDR struct {
		seq int64
		d   orgdoc.DesignerRole
	}
	var drs []seqDR
	for sk, raw := range h(k.DRoles()) {
		var as []SeqAssignment
		_ = json.Unmarshal([]byte(raw), &as)
		for _, a := range as {
			drs = append(drs, seqDR{a.Seq, orgdoc.DesignerRole{Subject: ParseSubjectKey(sk), Role: a.Role, Scope: a.Scope}})
		}
	}
	sort.Slice(drs, func(i, j int) bool { return drs[i].seq < drs[j].seq })
	for _, d := range drs {
		o.DesignerRoles = append(o.DesignerRoles, d.d)
	}
	for _, raw := range ordered(h(k.Projects())) {
		var rec ProjectRecord
		_ = json.Unmarshal([]byte(raw), &rec)
		p := orgdoc.Project{ID: rec.ID, Workspace: rec.Workspace, FlowPermissions: rec.FlowPermissions}
		for _, braw := range ordered(h(k.Builds(rec.ID))) {
			var b orgdoc.Build
			_ = json.Unmarshal([]byte(braw), &b)
			p.Builds = append(p.Builds, b)
		}
		for _, env := range rec.Environments {
			if p.Environments == nil {
				p.Environments = map[string]*orgdoc.Environment{}
			}
			p.Environments[env] = EnvFromHash(h(k.Env(rec.ID, env)))
		}
		o.Projects = append(o.Projects, p)
	}
	for _, raw := range ordered(h(k.Filters())) {
		var f orgdoc.BusinessFilter
		_ = json.Unmarshal([]byte(raw), &f)
		o.BusinessFilters = append(o.BusinessFilters, f)
	}
	return o, rev, nil
}

// EnvFromHash rebuilds an environment from its hash.
func EnvFromHash(h map[string]string) *orgdoc.Environment {
	e := &orgdoc.Environment{Shares: []orgdoc.Share{}}
	type seqOvr struct {
		seq int64
		o   orgdoc.Override
	}
	var ovrs []seqOvr
	type seqShare struct {
		seq int64
		s   orgdoc.Share
	}
	var shares []seqShare
	for f, raw := range h {
		switch {
		case f == FieldActivePolicy:
			var ap struct{ Default orgdoc.Policy }
			_ = json.Unmarshal([]byte(raw), &ap)
			if e.ActivePolicy == nil {
				e.ActivePolicy = &orgdoc.ActivePolicy{}
			}
			e.ActivePolicy.Default = ap.Default
		case f == FieldRoleOverride, strings.HasPrefix(f, PrefixShadowedGroupOverride):
			var list []json.RawMessage
			_ = json.Unmarshal([]byte(raw), &list)
			for _, r := range list {
				var o orgdoc.Override
				_ = json.Unmarshal(r, &o)
				ovrs = append(ovrs, seqOvr{SeqOf(string(r)), o})
			}
		case hasPrefix(f, PrefixUsernameOverride), hasPrefix(f, PrefixGroupOverride):
			var o orgdoc.Override
			_ = json.Unmarshal([]byte(raw), &o)
			ovrs = append(ovrs, seqOvr{SeqOf(raw), o})
		case hasPrefix(f, PrefixUserShare), hasPrefix(f, PrefixGroupShare):
			var s orgdoc.Share
			_ = json.Unmarshal([]byte(raw), &s)
			shares = append(shares, seqShare{SeqOf(raw), s})
		}
	}
	if e.ActivePolicy != nil {
		sort.Slice(ovrs, func(i, j int) bool { return ovrs[i].seq < ovrs[j].seq })
		e.ActivePolicy.Overrides = []orgdoc.Override{}
		for _, o := range ovrs {
			e.ActivePolicy.Overrides = append(e.ActivePolicy.Overrides, o.o)
		}
	}
	sort.Slice(shares, func(i, j int) bool { return shares[i].seq < shares[j].seq })
	for _, s := range shares {
		e.Shares = append(e.Shares, s.s)
	}
	return e
}

// ordered returns a hash's values sorted by their stored position.
func ordered(h map[string]string) []string {
	out := make([]string, 0, len(h))
	for _, v := range h {
		out = append(out, v)
	}
	sort.SliceStable(out, func(i, j int) bool { return SeqOf(out[i]) < SeqOf(out[j]) })
	return out
}

func isZset(k Keys, key string) bool {
	return hasPrefix(key, k.p+"members:") || hasPrefix(key, k.p+"dmembers:")
}

func hasPrefix(s, p string) bool { return len(s) >= len(p) && s[:len(p)] == p }

// ParseSubjectKey reads a subject key of `droles` (SubjectKey).
func ParseSubjectKey(sk string) orgdoc.Subject {
	if hasPrefix(sk, "u:") {
		return orgdoc.Subject{User: sk[2:]}
	}
	return orgdoc.Subject{Group: sk[2:]}
}

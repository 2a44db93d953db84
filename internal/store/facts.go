package store

import (
	"context"
	_ "embed"
	"encoding/json"
	"slices"
	"strconv"

	"github.com/redis/go-redis/v9"
	"github.com/verdict-pdp/verdict/internal/orgdoc"
)

//go:embed facts.lua
var factsLua string

var factsScript = redis.NewScript(factsLua)

// SubjectFacts is what one decision may read about one subject, as a small
// org document: only the subject's records, groups, grants and designer
// assignments, the named project (without builds) with the overrides and
// shares that concern the subject in the named environment, and the named
// filter. BuildIDs lists the project's builds (their immutable manifests are
// fetched with Builds and cached by the caller).
type SubjectFacts struct {
	Org      orgdoc.Org
	Exists   bool // the org exists
	BuildIDs []string
	Revision int64
}

// ReadSubject reads a subject's facts in one round trip.
func (s *Store) ReadSubject(ctx context.Context, org, user, project, env, filter string) (*SubjectFacts, error) {
	k := s.keys(org)
	res, err := factsScript.Run(ctx, s.rdb, []string{k.users()}, k.p, user, project, env, filter).Slice()
	if err != nil {
		return nil, unavailable(err)
	}
	if len(res) != 12 {
		return nil, unavailable(errUnexpected)
	}
	str := func(i int) string { x, _ := res[i].(string); return x }
	list := func(i int) []any { x, _ := res[i].([]any); return x }
	sf := &SubjectFacts{Org: orgdoc.Org{Org: org}}
	sf.Revision, _ = strconv.ParseInt(str(11), 10, 64)
	sf.Exists = sf.Revision > 0
	if raw := str(0); raw != "" {
		var u orgdoc.User
		_ = json.Unmarshal([]byte(raw), &u)
		sf.Org.Users = []orgdoc.User{u}
	}
	var groups []string
	_ = json.Unmarshal([]byte(str(1)), &groups)
	attrs := list(2)
	for i, g := range groups {
		grp := orgdoc.Group{Name: g, Members: []string{user}}
		if i < len(attrs) {
			if raw, ok := attrs[i].(string); ok {
				var rec groupRecord
				_ = json.Unmarshal([]byte(raw), &rec)
				grp.Attributes = rec.Attributes
			}
		}
		sf.Org.Groups = append(sf.Org.Groups, grp)
	}
	if raw := str(3); raw != "" {
		var rs []seqRole
		_ = json.Unmarshal([]byte(raw), &rs)
		for _, r := range rs {
			sf.Org.LegacyGrants = append(sf.Org.LegacyGrants, orgdoc.LegacyGrant{User: user, Role: r.Role})
		}
	}
	var dgroups []string
	_ = json.Unmarshal([]byte(str(4)), &dgroups)
	for _, g := range dgroups {
		sf.Org.DesignerGroups = append(sf.Org.DesignerGroups, orgdoc.DesignerGroup{Name: g, Members: []string{user}})
	}
	dkeys, droles := list(5), list(6)
	for i, kk := range dkeys {
		sk, _ := kk.(string)
		raw, _ := droles[i].(string)
		if raw == "" {
			continue
		}
		var as []seqAssignment
		_ = json.Unmarshal([]byte(raw), &as)
		for _, a := range as {
			sf.Org.DesignerRoles = append(sf.Org.DesignerRoles, orgdoc.DesignerRole{Subject: parseSubjectKey(sk), Role: a.Role, Scope: a.Scope})
		}
	}
	if raw := str(7); raw != "" {
		var rec projectRecord
		_ = json.Unmarshal([]byte(raw), &rec)
		p := orgdoc.Project{ID: rec.ID, Workspace: rec.Workspace, FlowPermissions: rec.FlowPermissions}
		for _, id := range list(8) {
			if s, ok := id.(string); ok {
				sf.BuildIDs = append(sf.BuildIDs, s)
			}
		}
		slices.Sort(sf.BuildIDs)
		if ef := list(9); len(ef) > 0 && ef[0] != nil {
			h := map[string]string{}
			names := []string{"env", fieldActivePolicy, fieldRoleOverride, prefixUserShare + user, prefixUsernameOvr}
			for _, g := range groups {
				names = append(names, prefixGroupShare+g, prefixGroupOvr+g)
			}
			for i, v := range ef {
				if raw, ok := v.(string); ok && i < len(names) {
					h[names[i]] = raw
				}
			}
			p.Environments = map[string]*orgdoc.Environment{env: envFromHash(h)}
		}
		sf.Org.Projects = []orgdoc.Project{p}
	}
	if raw := str(10); raw != "" {
		var f orgdoc.BusinessFilter
		_ = json.Unmarshal([]byte(raw), &f)
		sf.Org.BusinessFilters = []orgdoc.BusinessFilter{f}
	}
	return sf, nil
}

// Builds reads the manifests of a project's builds.
func (s *Store) Builds(ctx context.Context, org, project string) ([]orgdoc.Build, error) {
	h, err := s.rdb.HGetAll(ctx, s.keys(org).builds(project)).Result()
	if err != nil {
		return nil, unavailable(err)
	}
	out := make([]orgdoc.Build, 0, len(h))
	for _, raw := range ordered(h) {
		var b orgdoc.Build
		_ = json.Unmarshal([]byte(raw), &b)
		out = append(out, b)
	}
	return out, nil
}

type unexpected struct{}

func (unexpected) Error() string { return "unexpected reply from the facts script" }

var errUnexpected = unexpected{}

package facts

import (
	"context"
	_ "embed"
	"errors"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"

	"github.com/verdict-pdp/verdict/internal/decision"
	"github.com/verdict-pdp/verdict/internal/tracing"
	"github.com/verdict-pdp/verdict/internal/verr"
)

//go:embed facts.lua
var factsLua string

var factsScript = redis.NewScript(factsLua)

// ReaderConfig configures a Reader.
type ReaderConfig struct {
	// Prefix turns an org id into the prefix of its keys ("v:{acme}:"); the
	// store's key layout (store.Store.OrgPrefix). Required.
	Prefix func(org string) string
	// MaxProjects bounds the projects whose decoded build manifests are kept
	// (default 1024); past it one kept project, at random, makes room.
	MaxProjects int
	// MaxShared bounds the decoded records that several subjects share
	// (projects, groups, active policies, group shares...) kept by their
	// stored text (default 4096 records).
	MaxShared int
}

// Validate fills defaults and reports every problem.
func (c *ReaderConfig) Validate() error {
	if c.Prefix == nil {
		return verr.New(verr.InvalidInput, "prefix", "required")
	}
	if c.MaxProjects < 0 {
		return verr.New(verr.InvalidInput, "max_projects", "must not be negative")
	}
	if c.MaxShared < 0 {
		return verr.New(verr.InvalidInput, "max_shared", "must not be negative")
	}
	if c.MaxProjects == 0 {
		c.MaxProjects = 1024
	}
	if c.MaxShared == 0 {
		c.MaxShared = 4096
	}
	return nil
}

// Reader reads a Scope's facts from Redis: one script call per decision, its
// reply decoded straight into the AST the policies read. Build manifests are
// immutable: they are read once per project (HGETALL), decoded, and shared;
// only the list of build ids is read each time, to see new ones.
//
// A Reader is safe for concurrent use.
type Reader struct {
	cfg ReaderConfig
	rdb redis.UniversalClient

	mu     sync.RWMutex
	builds map[string]cachedBuilds // org + "\x00" + project

	shared *memo // decoded records several subjects share

	decoders sync.Pool
}

type cachedBuilds struct {
	ids   string // sorted build ids joined by \x00: the entry is good while they match
	value *ast.Term
}

// NewReader returns a Reader over rdb.
func NewReader(rdb redis.UniversalClient, cfg ReaderConfig) (*Reader, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	r := &Reader{cfg: cfg, rdb: rdb, builds: map[string]cachedBuilds{}, shared: newMemo(cfg.MaxShared)}
	r.decoders.New = func() any { return new(decoder) }
	return r, nil
}

var stampScript = redis.NewScript(`
local rev = redis.call('GET', KEYS[1]) or '0'
local last = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', 1)
local id = ''
if #last > 0 then id = last[1][1] end
return {rev, id}`)

// Stamp reads what identifies an org's state now: its revision and the id
// of its last change ("" and 0 for an org never written). It is the cheap
// check of whether cached facts are still current.
func (r *Reader) Stamp(ctx context.Context, org string) (int64, string, error) {
	p := r.cfg.Prefix(org)
	res, err := stampScript.Run(ctx, r.rdb, []string{p + "rev", p + "changes"}).StringSlice()
	if err != nil {
		return 0, "", scriptError(p, err)
	}
	if len(res) != 2 {
		return 0, "", verr.New(verr.Internal, "", "the stamp script answered %d values", len(res))
	}
	n, err := strconv.ParseInt(res[0], 10, 64)
	if err != nil {
		return 0, "", invalid(p+"rev", "", "", "not an integer: %q", res[0])
	}
	return n, res[1], nil
}

// Forget drops the build manifests kept of org (after the org was replaced
// or deleted: a build id may then stand for another manifest), or of every
// org when org is "".
func (r *Reader) Forget(org string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if org == "" {
		clear(r.builds)
		return
	}
	for k := range r.builds {
		if strings.HasPrefix(k, org+"\x00") {
			delete(r.builds, k)
		}
	}
}

// The positions of the script's reply (facts.lua).
const (
	rRev = iota
	rChange
	rSettings
	rUser
	rUserGroups
	rGroupAttrs
	rLegacy
	rDGroupsOf
	rDKeys
	rDRoles
	rProject
	rBuildIDs
	rEnvFields
	rFilter
	rUsername
	rLen
)

// Facts implements Source.
func (r *Reader) Facts(ctx context.Context, s Scope) (Facts, error) {
	if err := s.Validate(); err != nil {
		return Facts{}, err
	}
	p := r.cfg.Prefix(s.Org)
	start := time.Now()
	// The read's span: the Cache calls here on a miss only, so a trace shows
	// a Redis round trip exactly where one was made.
	sctx, span := tracing.Child(ctx, "verdict.facts.read")
	if span.IsRecording() {
		span.SetAttributes(attribute.String("verdict.org", s.Org), attribute.String("db.system.name", "redis"))
	}
	res, err := factsScript.Run(sctx, r.rdb, []string{p + "users"}, p, s.Subject, s.Project, s.Environment, s.Filter).Slice()
	if err != nil {
		err = scriptError(p, err)
		span.RecordError(err)
		span.SetStatus(codes.Error, string(verr.CodeOf(err)))
		span.End()
		return Facts{}, err
	}
	span.End()
	if len(res) > 0 {
		switch res[0] {
		case "!unknown":
			return Facts{Value: ast.NewObject(), Read: start}, nil
		case "!invalid":
			if len(res) == 3 {
				key, _ := res[1].(string)
				field, _ := res[2].(string)
				return Facts{}, invalid(key, field, "", "not a JSON value of the expected shape")
			}
		}
	}
	if len(res) != rLen {
		return Facts{}, verr.New(verr.Internal, "", "the facts script answered %d values, not %d", len(res), rLen)
	}
	d := r.decoders.Get().(*decoder)
	defer r.decoders.Put(d)
	f, err := r.assemble(ctx, d, p, s, res)
	if err != nil {
		return Facts{}, err
	}
	f.Read = start
	return f, nil
}

// assemble decodes the script's reply into {org: {...}}.
func (r *Reader) assemble(ctx context.Context, d *decoder, p string, s Scope, res []any) (Facts, error) {
	str := func(i int) string { x, _ := res[i].(string); return x }
	list := func(i int) []any { x, _ := res[i].([]any); return x }
	f := Facts{Known: true}
	var err error
	if f.Revision, err = strconv.ParseInt(str(rRev), 10, 64); err != nil {
		return Facts{}, invalid(p+"rev", "", "", "not an integer: %q", str(rRev))
	}
	f.Change = str(rChange)
	d.reset(p+"org", "settings", str(rSettings))
	if err := d.settings(); err != nil {
		return Facts{}, err
	}
	uid := s.Subject
	org := ast.NewObjectWithCapacity(10)
	item(org, "org", ast.StringTerm(s.Org))

	users := ast.NewObjectWithCapacity(1)
	if raw := str(rUser); raw != "" {
		d.reset(p+"users", uid, raw)
		u, active, err := d.user(uid)
		if err != nil {
			return Facts{}, err
		}
		users.Insert(ast.StringTerm(uid), u)
		f.Active = active
	}
	item(org, "users", ast.NewTerm(users))

	userGroups, groups := ast.NewObjectWithCapacity(1), ast.NewObjectWithCapacity(4)
	var groupNames []string
	if raw := str(rUserGroups); raw != "" {
		d.reset(p+"user_groups", uid, raw)
		gs, err := d.names()
		if err != nil {
			return Facts{}, err
		}
		userGroups.Insert(ast.StringTerm(uid), gs)
		attrs := list(rGroupAttrs)
		arr := gs.Value.(*ast.Array)
		groupNames = make([]string, arr.Len())
		for i := range arr.Len() {
			g := string(arr.Elem(i).Value.(ast.String))
			groupNames[i] = g
			rec := ast.NewTerm(ast.NewObject())
			if i < len(attrs) {
				if raw, ok := attrs[i].(string); ok {
					if rec, err = r.shared.get(p+"groups", g, raw, func() (*ast.Term, error) {
						d.reset(p+"groups", g, raw)
						return d.group(g)
					}); err != nil {
						return Facts{}, err
					}
				}
			}
			groups.Insert(ast.StringTerm(g), rec)
		}
	}
	item(org, "user_groups", ast.NewTerm(userGroups))
	item(org, "groups", ast.NewTerm(groups))

	legacy := ast.NewObjectWithCapacity(1)
	if raw := str(rLegacy); raw != "" {
		d.reset(p+"legacy", uid, raw)
		roles, err := d.legacy()
		if err != nil {
			return Facts{}, err
		}
		legacy.Insert(ast.StringTerm(uid), roles)
	}
	item(org, "legacy_grants", ast.NewTerm(legacy))

	dgroupsOf := ast.NewObjectWithCapacity(1)
	if raw := str(rDGroupsOf); raw != "" {
		d.reset(p+"dgroups_of", uid, raw)
		gs, err := d.names()
		if err != nil {
			return Facts{}, err
		}
		dgroupsOf.Insert(ast.StringTerm(uid), gs)
	}
	item(org, "designer_groups_of", ast.NewTerm(dgroupsOf))

	dusers, dgroups := ast.NewObjectWithCapacity(1), ast.NewObjectWithCapacity(2)
	dkeys, droles := list(rDKeys), list(rDRoles)
	for i, k := range dkeys {
		field, _ := k.(string)
		raw, _ := droles[i].(string)
		if raw == "" {
			continue
		}
		decode := func() (*ast.Term, error) {
			d.reset(p+"droles", field, raw)
			return d.assignments()
		}
		var as *ast.Term
		if strings.HasPrefix(field, "g:") {
			as, err = r.shared.get(p+"droles", field, raw, decode)
		} else {
			as, err = decode()
		}
		if err != nil {
			return Facts{}, err
		}
		if name, ok := strings.CutPrefix(field, "u:"); ok {
			dusers.Insert(ast.StringTerm(name), as)
		} else {
			dgroups.Insert(ast.StringTerm(strings.TrimPrefix(field, "g:")), as)
		}
	}
	item(org, "designer_roles", ast.ObjectTerm(
		[2]*ast.Term{ast.InternedTerm("users"), ast.NewTerm(dusers)},
		[2]*ast.Term{ast.InternedTerm("groups"), ast.NewTerm(dgroups)},
	))

	projects := ast.NewObjectWithCapacity(1)
	if raw := str(rProject); raw != "" {
		base, err := r.shared.get(p+"projects", s.Project, raw, func() (*ast.Term, error) {
			d.reset(p+"projects", s.Project, raw)
			o, err := d.project(s.Project)
			return ast.NewTerm(o), err
		})
		if err != nil {
			return Facts{}, err
		}
		// The kept record is shared: this decision's project is a new
		// object holding its members.
		proj := ast.NewObjectWithCapacity(4)
		base.Value.(ast.Object).Foreach(func(k, v *ast.Term) { proj.Insert(k, v) })
		builds, err := r.projectBuilds(ctx, d, p, s.Org, s.Project, list(rBuildIDs))
		if err != nil {
			return Facts{}, err
		}
		item(proj, "builds", builds)
		envs := ast.NewObjectWithCapacity(1)
		if ef := list(rEnvFields); len(ef) > 0 && ef[0] != nil {
			e, err := r.environment(d, p+"env:"+s.Project+":"+s.Environment, uid, str(rUsername), groupNames, ef)
			if err != nil {
				return Facts{}, err
			}
			envs.Insert(ast.StringTerm(s.Environment), e)
		}
		item(proj, "environments", ast.NewTerm(envs))
		projects.Insert(ast.StringTerm(s.Project), ast.NewTerm(proj))
	}
	item(org, "projects", ast.NewTerm(projects))

	filters := ast.NewObjectWithCapacity(1)
	if raw := str(rFilter); raw != "" {
		fv, err := r.shared.get(p+"filters", s.Filter, raw, func() (*ast.Term, error) {
			d.reset(p+"filters", s.Filter, raw)
			return d.filter(s.Filter)
		})
		if err != nil {
			return Facts{}, err
		}
		filters.Insert(ast.StringTerm(s.Filter), fv)
	}
	item(org, "business_filters", ast.NewTerm(filters))
	if s.Token != nil {
		item(org, "verified_token", TokenTerm(s.Token))
	}
	f.Value = ast.NewObject([2]*ast.Term{ast.StringTerm(s.Org), ast.NewTerm(org)})
	return f, nil
}

// environment decodes the fields of env:<project>:<env> that concern the
// subject, in the order facts.lua asked for them: env, ap, ro, su:<uid>,
// uo:<username>, then sg:<g>, go:<g> for each of the subject's groups.
func (r *Reader) environment(d *decoder, key, uid, username string, groups []string, ef []any) (*ast.Term, error) {
	at := func(i int) (string, bool) {
		if i >= len(ef) {
			return "", false
		}
		s, ok := ef[i].(string)
		return s, ok
	}
	shareUsers, shareGroups := ast.NewObjectWithCapacity(1), ast.NewObjectWithCapacity(len(groups))
	if raw, ok := at(3); ok {
		d.reset(key, "su:"+uid, raw)
		roles, err := d.share()
		if err != nil {
			return nil, err
		}
		shareUsers.Insert(ast.StringTerm(uid), roles)
	}
	groupOvr := ast.NewObjectWithCapacity(len(groups))
	for i, g := range groups {
		if raw, ok := at(5 + 2*i); ok {
			roles, err := r.shared.get(key, "sg:"+g, raw, func() (*ast.Term, error) {
				d.reset(key, "sg:"+g, raw)
				return d.share()
			})
			if err != nil {
				return nil, err
			}
			shareGroups.Insert(ast.StringTerm(g), roles)
		}
		if raw, ok := at(6 + 2*i); ok {
			ovr, err := r.shared.get(key, "go:"+g, raw, func() (*ast.Term, error) {
				d.reset(key, "go:"+g, raw)
				o, err := d.override()
				if err == nil {
					err = d.end()
				}
				if err == nil && (o.kind != "group" || o.name != g) {
					err = invalid(key, "go:"+g, "", "not the group override of %q", g)
				}
				if err != nil {
					return nil, err
				}
				return ast.ObjectTerm(
					[2]*ast.Term{ast.InternedTerm("priority"), o.priority},
					[2]*ast.Term{ast.InternedTerm("policy"), o.policy},
				), nil
			})
			if err != nil {
				return nil, err
			}
			groupOvr.Insert(ast.StringTerm(g), ovr)
		}
	}
	env := ast.NewObjectWithCapacity(2)
	item(env, "shares", ast.ObjectTerm(
		[2]*ast.Term{ast.InternedTerm("users"), ast.NewTerm(shareUsers)},
		[2]*ast.Term{ast.InternedTerm("groups"), ast.NewTerm(shareGroups)},
	))
	raw, ok := at(1)
	if !ok {
		return ast.NewTerm(env), nil // no active policy in this environment
	}
	def, err := r.shared.get(key, "ap", raw, func() (*ast.Term, error) {
		d.reset(key, "ap", raw)
		return d.activePolicy()
	})
	if err != nil {
		return nil, err
	}
	userOvr := ast.NewObjectWithCapacity(1)
	if raw, ok := at(4); ok && username != "" {
		d.reset(key, "uo:"+username, raw)
		o, err := d.override()
		if err == nil {
			err = d.end()
		}
		if err == nil && (o.kind != "username" || o.name != username) {
			err = invalid(key, "uo:"+username, "", "not the username override of %q", username)
		}
		if err != nil {
			return nil, err
		}
		userOvr.Insert(ast.StringTerm(username), o.policy)
	}
	roleOvr := ast.NewTerm(ast.NewObject())
	if raw, ok := at(2); ok {
		if roleOvr, err = r.shared.get(key, "ro", raw, func() (*ast.Term, error) {
			d.reset(key, "ro", raw)
			o := ast.NewObjectWithCapacity(1)
			return ast.NewTerm(o), roleOverrides(d, o)
		}); err != nil {
			return nil, err
		}
	}
	item(env, "active_policy", ast.ObjectTerm(
		[2]*ast.Term{ast.InternedTerm("default"), def},
		[2]*ast.Term{ast.InternedTerm("username_overrides"), ast.NewTerm(userOvr)},
		[2]*ast.Term{ast.InternedTerm("group_overrides"), ast.NewTerm(groupOvr)},
		[2]*ast.Term{ast.InternedTerm("role_overrides"), roleOvr},
	))
	return ast.NewTerm(env), nil
}

// roleOverrides decodes the "ro" field: every deprecated role override.
func roleOverrides(d *decoder, into ast.Object) error {
	if _, err := d.token('[', "an array"); err != nil {
		return err
	}
	for d.dec.PeekKind() != ']' {
		o, err := d.override()
		if err == nil && o.kind != "role" {
			err = d.fail("not a role override")
		}
		if err != nil {
			return err
		}
		into.Insert(ast.StringTerm(o.name), ast.ObjectTerm(
			[2]*ast.Term{ast.InternedTerm("priority"), o.priority},
			[2]*ast.Term{ast.InternedTerm("policy"), o.policy},
		))
	}
	if _, err := d.dec.ReadToken(); err != nil {
		return d.wrap(err)
	}
	return d.end()
}

// projectBuilds returns the project's builds as AST, from what the Reader
// keeps while the set of build ids is unchanged.
func (r *Reader) projectBuilds(ctx context.Context, d *decoder, p, org, project string, ids []any) (*ast.Term, error) {
	names := make([]string, 0, len(ids))
	for _, id := range ids {
		if s, ok := id.(string); ok {
			names = append(names, s)
		}
	}
	slices.Sort(names)
	key, want := org+"\x00"+project, strings.Join(names, "\x00")
	r.mu.RLock()
	c, ok := r.builds[key]
	r.mu.RUnlock()
	if ok && c.ids == want {
		return c.value, nil
	}
	bkey := p + "builds:" + project
	h, err := r.rdb.HGetAll(ctx, bkey).Result()
	if err != nil {
		return nil, unavailable(err)
	}
	obj := ast.NewObjectWithCapacity(len(h))
	for id, raw := range h {
		d.reset(bkey, id, raw)
		b, err := d.build(id)
		if err != nil {
			return nil, err
		}
		obj.Insert(ast.StringTerm(id), b)
	}
	v := ast.NewTerm(obj)
	got := make([]string, 0, len(h))
	for id := range h {
		got = append(got, id)
	}
	slices.Sort(got)
	r.mu.Lock()
	if len(r.builds) >= r.cfg.MaxProjects {
		evictOne(r.builds)
	}
	r.builds[key] = cachedBuilds{ids: strings.Join(got, "\x00"), value: v}
	r.mu.Unlock()
	return v, nil
}

// TokenTerm renders verified token claims as the facts' verified_token.
func TokenTerm(t *decision.Token) *ast.Term {
	obj := ast.NewObjectWithCapacity(3)
	item(obj, "subject", ast.StringTerm(t.Subject))
	if t.DesignerUser != nil {
		item(obj, "designer_user", ast.InternedTerm(*t.DesignerUser))
	}
	if t.Attributes != nil {
		attrs := ast.NewObjectWithCapacity(len(t.Attributes))
		for k, vs := range t.Attributes {
			arr := make([]*ast.Term, len(vs))
			for i, v := range vs {
				arr[i] = ast.StringTerm(v)
			}
			attrs.Insert(ast.StringTerm(k), ast.ArrayTerm(arr...))
		}
		item(obj, "attributes", ast.NewTerm(attrs))
	}
	return ast.NewTerm(obj)
}

// unavailable marks a Redis failure: the PDP fails closed.
func unavailable(err error) error {
	return verr.Wrap(verr.Unavailable, "", err, "facts store unavailable: %v", err)
}

// scriptError tells an error reply of the script (the data or the script is
// at fault: facts_invalid) from a store that cannot be reached.
func scriptError(prefix string, err error) error {
	var re redis.Error
	if errors.As(err, &re) && !errors.Is(err, redis.Nil) && !isTransient(err) {
		e := verr.Wrap(verr.FactsInvalid, "", err, "the facts of %s could not be read: %v", prefix, err)
		e.Detail = map[string]string{"key": prefix}
		return e
	}
	return unavailable(err)
}

// isTransient reports Redis error replies that say the store cannot answer
// now rather than that the data is bad.
func isTransient(err error) bool {
	msg := err.Error()
	for _, p := range []string{"LOADING", "BUSY", "TRYAGAIN", "CLUSTERDOWN", "MASTERDOWN", "READONLY", "MOVED", "ASK", "NOREPLICAS"} {
		if strings.HasPrefix(msg, p) {
			return true
		}
	}
	return false
}

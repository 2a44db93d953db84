package test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/verdict-pdp/verdict/internal/assemble"
	"github.com/verdict-pdp/verdict/internal/authzen"
	"github.com/verdict-pdp/verdict/internal/decision"
	"github.com/verdict-pdp/verdict/internal/orgdoc"
	"github.com/verdict-pdp/verdict/internal/pdp"
	"github.com/verdict-pdp/verdict/internal/verr"
)

// scope is one manifest to replay: a user in a project and environment.
type manifestScope struct {
	org  *orgdoc.Org
	proj *orgdoc.Project
	req  decision.ManifestRequest
}

// manifestScopes lists every user (and one unknown id) of every org of c in
// every project and every environment the org or the project names.
func manifestScopes(c *orgdoc.Corpus, explain bool) []manifestScope {
	var out []manifestScope
	for i := range c.Orgs {
		o := &c.Orgs[i]
		users := []string{"nobody-of-this-org"}
		for _, u := range o.Users {
			users = append(users, u.ID)
		}
		for j := range o.Projects {
			p := &o.Projects[j]
			envs := slices.Clone(o.Environments)
			for e := range p.Environments {
				if !slices.Contains(envs, e) {
					envs = append(envs, e)
				}
			}
			sort.Strings(envs)
			for _, env := range envs {
				for _, u := range users {
					out = append(out, manifestScope{org: o, proj: p, req: decision.ManifestRequest{
						Org: o.Org, User: u, Project: p.ID, Environment: env, Explain: explain}})
				}
			}
		}
	}
	return out
}

// single is one decision a manifest stands for. got finds the manifest's
// answer to it (key names the answer, so that each is counted once); found
// is false when the manifest does not list it, and then the single decision
// must be a deny.
type single struct {
	name string
	req  *authzen.Request
	got  func(m decision.Manifest) (d decision.Decision, key string, found bool)
}

// singles lists the single decisions that a manifest of s replaces: access,
// every UI flow, component, process and swimlane right of every build of the
// project (the manifest lists the served build's, and only with access), one
// component no build describes, every listed flow and one flow with no
// entries.
func singles(s manifestScope) []single {
	ask := func(typ, id, action string, props map[string]any) *authzen.Request {
		ctx := map[string]any{"org": s.req.Org, "environment": s.req.Environment}
		if s.req.Explain {
			ctx["explain"] = true
		}
		return &authzen.Request{Subject: &authzen.Entity{Type: "user", ID: s.req.User}, Action: &authzen.Action{Name: action},
			Resource: &authzen.Entity{Type: typ, ID: id, Properties: props}, Context: ctx}
	}
	p := s.proj.ID
	out := []single{{"access", ask("solution", p, "access", nil),
		func(m decision.Manifest) (decision.Decision, string, bool) { return m.Access, "access", true }}}
	component := func(f, c string) single {
		return single{"component " + f + "/" + c, ask("component", c, "view", map[string]any{"project": p, "ui_flow": f}),
			func(m decision.Manifest) (decision.Decision, string, bool) {
				x, ok := m.UIFlows[f]
				if d, described := x.Components[c]; described {
					return d, "component " + f + "/" + c, true
				}
				return x.OtherComponents, "other components of " + f, ok
			}}
	}
	for _, b := range s.proj.Builds {
		for _, f := range b.UIFlows {
			out = append(out, single{"ui_flow " + f.ID, ask("ui_flow", f.ID, "launch", map[string]any{"project": p}),
				func(m decision.Manifest) (decision.Decision, string, bool) {
					x, ok := m.UIFlows[f.ID]
					return x.Launch, "ui_flow " + f.ID, ok
				}})
			for c := range f.Components {
				out = append(out, component(f.ID, c))
			}
			out = append(out, component(f.ID, "*"))
		}
		for _, pr := range b.Processes {
			out = append(out, single{"process " + pr.ID, ask("process", pr.ID, "start", map[string]any{"project": p}),
				func(m decision.Manifest) (decision.Decision, string, bool) {
					x, ok := m.Processes[pr.ID]
					return x.Start, "process " + pr.ID, ok
				}})
			for lane := range pr.Swimlanes {
				for _, a := range orgdoc.SwimlaneRights {
					key := fmt.Sprintf("swimlane %s/%s %s", pr.ID, lane, a)
					out = append(out, single{key, ask("swimlane", lane, a, map[string]any{"project": p, "process": pr.ID}),
						func(m decision.Manifest) (decision.Decision, string, bool) {
							x, ok := m.Processes[pr.ID].Swimlanes[lane][a]
							return x, key, ok
						}})
				}
			}
		}
	}
	if fp := s.proj.FlowPermissions; fp != nil {
		for f := range fp.Flows {
			out = append(out, single{"flow " + f, ask("flow", f, "run", map[string]any{"project": p}),
				func(m decision.Manifest) (decision.Decision, string, bool) {
					x, ok := m.Flows.Listed[f]
					return x, "flow " + f, ok
				}})
		}
	}
	out = append(out, single{"a flow with no entries", ask("flow", "*", "run", map[string]any{"project": p}),
		func(m decision.Manifest) (decision.Decision, string, bool) {
			return m.Flows.Others, "other flows", true
		}})
	return out
}

// checkManifest compares a manifest with the single decisions it replaces.
// A single decision the manifest does not list must be a deny, and every
// answer the manifest lists must have been compared.
func checkManifest(t *testing.T, svc *pdp.Service, s manifestScope, m decision.Manifest) {
	t.Helper()
	ctx := context.Background()
	compared := map[string]bool{}
	for _, one := range singles(s) {
		d, err := svc.Evaluate(ctx, one.req, nil)
		if err != nil {
			t.Fatalf("%+v %s: %v", s.req, one.name, err)
		}
		got, key, ok := one.got(m)
		if !ok {
			if d.Decision {
				t.Errorf("%+v: %s is allowed by the single decision but not in the manifest: %v", s.req, one.name, d.Context)
			}
			continue
		}
		compared[key] = true
		if strings.HasPrefix(key, "other ") && one.req.Resource.ID != "*" {
			// Asked under its own id, a component the served build does not
			// describe is explained with that id: compare all but reasons.
			got, d = withoutReasons(got), withoutReasons(d)
		}
		if a, b := jsonOf(got), jsonOf(d); a != b {
			t.Errorf("%+v: %s\n  manifest: %s\n  single:   %s", s.req, one.name, a, b)
		}
	}
	n := 2 + len(m.Flows.Listed)
	for _, f := range m.UIFlows {
		n += 2 + len(f.Components)
	}
	for _, p := range m.Processes {
		n++
		for _, l := range p.Swimlanes {
			n += len(l)
		}
	}
	if n != len(compared) {
		t.Errorf("%+v: the manifest lists %d answers, %d were compared", s.req, n, len(compared))
	}
	if m.Access.Decision != (m.Build != "") || (m.Build != "" && m.Build != m.Access.Context["build"]) || (m.Rule != "" && m.Rule != m.Access.Context["rule"]) {
		t.Errorf("%+v: build %q rule %q do not repeat access %v", s.req, m.Build, m.Rule, m.Access)
	}
	if m.Org != s.req.Org || m.User != s.req.User || m.Project != s.req.Project || m.Environment != s.req.Environment {
		t.Errorf("%+v: manifest names %s %s %s %s", s.req, m.Org, m.User, m.Project, m.Environment)
	}
}

func withoutReasons(d decision.Decision) decision.Decision {
	c := map[string]any{}
	for k, v := range d.Context {
		if k != "reasons" {
			c[k] = v
		}
	}
	d.Context = c
	return d
}

func verrOf(err error) *verr.Error {
	var e *verr.Error
	if errors.As(err, &e) {
		return e
	}
	return nil
}

func jsonOf(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestManifestAgreesWithSingleDecisions replays every corpus: the manifest of
// every user in every project and environment, with and without explain, on
// subject facts (the central PDP's shape) and on the whole org (an edge's),
// agrees with the single decisions, reasons included (on the whole org with
// explain only: that is the stricter comparison, and it keeps the test short).
func TestManifestAgreesWithSingleDecisions(t *testing.T) {
	e := newEngine(t)
	ctx := context.Background()
	for _, f := range corpora(t) {
		t.Run(filepath.Base(f), func(t *testing.T) {
			c := loadCorpus(t, f)
			src := assemble.NewDocSource(c.Orgs)
			sparse, _ := pdp.New(pdp.Config{}, e, src)
			whole, _ := pdp.New(pdp.Config{}, e, wholeOrg{src})
			granted, scopes := 0, 0
			for _, explain := range []bool{false, true} {
				for _, s := range manifestScopes(c, explain) {
					svcs := []*pdp.Service{sparse}
					if explain {
						svcs = append(svcs, whole)
					}
					for _, svc := range svcs {
						m, err := svc.Manifest(ctx, s.req)
						if err != nil {
							t.Fatalf("%+v: %v", s.req, err)
						}
						checkManifest(t, svc, s, m)
						scopes++
						if m.Access.Decision {
							granted++
						}
					}
				}
			}
			// The corpus must exercise both sides, or the check proves little.
			if granted == 0 || granted == scopes {
				t.Errorf("%d of %d manifests grant access: the replay exercises one side only", granted, scopes)
			}
			t.Logf("%d manifests checked, %d with access", scopes, granted)
		})
	}
}

// TestManifestRequestErrors: a manifest request without user, project or
// environment is refused naming the field, with a manifest granting nothing.
func TestManifestRequestErrors(t *testing.T) {
	e := newEngine(t)
	c := loadCorpus(t, "../data/demo.json")
	svc, _ := pdp.New(pdp.Config{DefaultOrg: "demo"}, e, assemble.NewDocSource(c.Orgs))
	full := decision.ManifestRequest{User: "u-maria", Project: "mortgage", Environment: "prod"}
	for field, r := range map[string]decision.ManifestRequest{
		"user":        {Project: "mortgage", Environment: "prod"},
		"project":     {User: "u-maria", Environment: "prod"},
		"environment": {User: "u-maria", Project: "mortgage"},
	} {
		m, err := svc.Manifest(context.Background(), r)
		if e := verrOf(err); e == nil || e.Field != field {
			t.Errorf("missing %s: error %v", field, err)
		}
		if m.Access.Decision || m.Flows.Others.Decision || len(m.UIFlows) != 0 {
			t.Errorf("missing %s: the manifest grants something: %+v", field, m)
		}
	}
	m, err := svc.Manifest(context.Background(), full)
	if err != nil || m.Org != "demo" || m.Build != "m2" || m.Rule != "group_override" {
		t.Errorf("default org: %+v %v", m, err)
	}
}

// BenchmarkManifest is one manifest, in process, cycling through every user,
// project and environment of the corpus (acme when ../shared is present).
// Compare with BenchmarkManifestAsSingleDecisions: the same scopes, each
// answered by the single decisions the manifest replaces.
func BenchmarkManifest(b *testing.B) {
	svc, scopes := benchManifestSetup(b)
	ctx := context.Background()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, err := svc.Manifest(ctx, scopes[i%len(scopes)].req); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkManifestAsSingleDecisions answers each scope of BenchmarkManifest
// with the single decisions a front end would otherwise ask: access, then
// each UI flow, component, process and swimlane right of the build served,
// each listed flow and one other flow.
func BenchmarkManifestAsSingleDecisions(b *testing.B) {
	svc, scopes := benchManifestSetup(b)
	ctx := context.Background()
	reqs := make([][]*authzen.Request, len(scopes))
	for i, s := range scopes {
		m, err := svc.Manifest(ctx, s.req)
		if err != nil {
			b.Fatal(err)
		}
		seen := map[string]bool{}
		for _, one := range singles(s) {
			if _, key, ok := one.got(m); ok && !seen[key] {
				seen[key] = true
				reqs[i] = append(reqs[i], one.req)
			}
		}
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		for _, r := range reqs[i%len(reqs)] {
			if _, err := svc.Evaluate(ctx, r, nil); err != nil {
				b.Fatal(err)
			}
		}
	}
}

func benchManifestSetup(b *testing.B) (*pdp.Service, []manifestScope) {
	path := filepath.Join(sharedDir, "acme.json")
	if !fileExists(path) {
		path = "../data/demo.json"
	}
	c := loadCorpus(b, path)
	svc, err := pdp.New(pdp.Config{}, newEngine(b), assemble.NewDocSource(c.Orgs))
	if err != nil {
		b.Fatal(err)
	}
	return svc, manifestScopes(c, false)
}

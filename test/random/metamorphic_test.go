package random

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/verdict-pdp/verdict/internal/assemble"
	"github.com/verdict-pdp/verdict/internal/engine"
	"github.com/verdict-pdp/verdict/internal/orgdoc"
	"github.com/verdict-pdp/verdict/internal/pdp"
	"github.com/verdict-pdp/verdict/internal/testutil/orggen"
	"github.com/verdict-pdp/verdict/internal/testutil/pdptest"
)

// Invariants that compare an org with a variant of it: each is a check of
// (org, request) -> "" or what is wrong, deciding in-process on the whole
// org (so the shrinker can run it on smaller orgs).

// docPDP decides on o alone, in memory.
func docPDP(eng *engine.Engine, o *orgdoc.Org) *pdp.Service {
	svc, err := pdp.New(pdp.Config{}, eng, assemble.NewDocSource([]orgdoc.Org{*o}))
	if err != nil {
		panic(err) // a zero Config always validates
	}
	return svc
}

// clone deep-copies an org document.
func clone(o *orgdoc.Org) *orgdoc.Org {
	b, _ := json.Marshal(o)
	var out orgdoc.Org
	_ = json.Unmarshal(b, &out)
	return &out
}

var runtimeTypes = []string{"solution", "ui_flow", "component", "process", "swimlane", "flow"}

// subjectUser is the active user a request is about (nil otherwise).
func subjectUser(o *orgdoc.Org, req orggen.Request) *orgdoc.User {
	s := obj(req, "subject")
	if str(s, "type") != "user" {
		return nil
	}
	for i := range o.Users {
		if o.Users[i].ID == str(s, "id") && o.Users[i].Status == orgdoc.StatusActive {
			return &o.Users[i]
		}
	}
	return nil
}

// requestEnv is the environment of the request's project the variant
// edits (nil when the request names none the project has).
func requestEnv(o *orgdoc.Org, req orggen.Request) *orgdoc.Environment {
	x := &oracle{o: o, req: req}
	p := x.project()
	if p == nil || x.env() == "" || (len(o.Environments) > 0 && !slices.Contains(o.Environments, x.env())) {
		return nil
	}
	if p.Environments == nil {
		p.Environments = map[string]*orgdoc.Environment{}
	}
	e := p.Environments[x.env()]
	if e == nil {
		e = &orgdoc.Environment{Shares: []orgdoc.Share{}}
		p.Environments[x.env()] = e
	}
	return e
}

func orgRoles(o *orgdoc.Org) []string {
	var out []string
	for _, r := range o.Roles {
		out = append(out, r.Name)
	}
	return out
}

// addShare gives every org role to subject s on the request's (P,E).
func addShare(e *orgdoc.Environment, s orgdoc.Subject, roles []string) {
	for i := range e.Shares {
		if e.Shares[i].Subject == s {
			for _, r := range roles {
				if !slices.Contains(e.Shares[i].Roles, r) {
					e.Shares[i].Roles = append(e.Shares[i].Roles, r)
				}
			}
			return
		}
	}
	e.Shares = append(e.Shares, orgdoc.Share{Subject: s, Roles: slices.Clone(roles)})
}

// shareNeverDenies: adding a share (every org role, to the user, then to
// its first group) never turns an allow into a deny, outside rule 7's
// denies (automation flows).
func shareNeverDenies(eng *engine.Engine, o *orgdoc.Org, req orggen.Request, before string) string {
	u := subjectUser(o, req)
	rtype := str(obj(req, "resource"), "type")
	if u == nil || rtype == "flow" || len(o.Roles) == 0 || !parse(before).Decision || requestEnv(clone(o), req) == nil {
		return ""
	}
	subjects := []orgdoc.Subject{{User: u.ID}}
	if gs := (&oracle{o: o, req: req}).groupsOf(u.ID); len(gs) > 0 {
		subjects = append(subjects, orgdoc.Subject{Group: gs[0]})
	}
	for _, s := range subjects {
		v := clone(o)
		addShare(requestEnv(v, req), s, orgRoles(v))
		after, err := evaluate(docPDP(eng, v), req)
		if err != nil {
			return err.Error()
		}
		if !parse(after).Decision {
			return fmt.Sprintf("a share of every role to %+v turns %s into %s", s, before, after)
		}
	}
	return ""
}

// isolate removes user id from every group and every share of it; bare
// also drops its legacy grants and its designerUser flag.
func isolate(o *orgdoc.Org, id string, bare bool) *orgdoc.Org {
	v := clone(o)
	for i := range v.Groups {
		v.Groups[i].Members = slices.DeleteFunc(v.Groups[i].Members, func(m string) bool { return m == id })
	}
	for pi := range v.Projects {
		for _, e := range v.Projects[pi].Environments {
			e.Shares = slices.DeleteFunc(e.Shares, func(s orgdoc.Share) bool { return s.Subject.User == id })
		}
	}
	if bare {
		v.LegacyGrants = slices.DeleteFunc(v.LegacyGrants, func(g orgdoc.LegacyGrant) bool { return g.User == id })
		for i := range v.Users {
			if v.Users[i].ID == id {
				v.Users[i].DesignerUser = false
			}
		}
	}
	return v
}

// isolatedAllowsOnlyBypassLegacyFlows: a user removed from every group and
// share is allowed at runtime only through the designer bypass, a legacy
// grant or an automation flow (whose grants and default need no role);
// without legacy grants and designerUser too, nothing but flows.
func isolatedAllowsOnlyBypassLegacyFlows(eng *engine.Engine, o *orgdoc.Org, req orggen.Request, _ string) string {
	u := subjectUser(o, req)
	rtype := str(obj(req, "resource"), "type")
	if u == nil || rtype == "flow" || !slices.Contains(runtimeTypes, rtype) {
		return ""
	}
	bare, err := evaluate(docPDP(eng, isolate(o, u.ID, true)), req)
	if err != nil {
		return err.Error()
	}
	if parse(bare).Decision {
		return fmt.Sprintf("with no group, share, legacy grant or designerUser, %s is still allowed: %s", u.ID, bare)
	}
	got, err := evaluate(docPDP(eng, isolate(o, u.ID, false)), withExplain(req, true))
	if err != nil {
		return err.Error()
	}
	if !parse(got).Decision {
		return ""
	}
	reasons, _ := parse(got).Context["reasons"].([]any)
	for _, r := range reasons {
		m, _ := r.(map[string]any)
		msg := str(m, "message")
		if (str(m, "rule") == "designer_bypass" && strings.HasPrefix(msg, "designer bypass:")) ||
			(str(m, "rule") == "runtime_roles" && strings.Contains(msg, "legacy (5.1) grant")) {
			return ""
		}
	}
	return fmt.Sprintf("with no group or share, %s is allowed neither by the bypass nor by a legacy grant: %s", u.ID, got)
}

// denyStays: an automation-flow deny at a level is not lifted by a grant at
// the same level (to the user, every org role and the system roles, where
// the level has no entry for them) nor by the designer bypass (designerUser
// and org_admin).
func denyStays(eng *engine.Engine, o *orgdoc.Org, req orggen.Request, before string) string {
	if str(obj(req, "resource"), "type") != "flow" {
		return ""
	}
	b := parse(before)
	level := str(b.Context, "level")
	if b.Decision || (level != "flow" && level != "app-wide") {
		return ""
	}
	v := clone(o)
	p := (&oracle{o: v, req: req}).project()
	var e *orgdoc.FlowEntries
	if level == "flow" {
		fe := p.FlowPermissions.Flows[str(obj(req, "resource"), "id")]
		e = &fe
	} else {
		e = p.FlowPermissions.Defaults
	}
	if u := subjectUser(v, req); u != nil {
		if e.Users == nil {
			e.Users = map[string]string{}
		}
		if _, ok := e.Users[u.ID]; !ok {
			e.Users[u.ID] = orgdoc.FlowGrant
		}
		u.DesignerUser = true
		v.DesignerRoles = append(v.DesignerRoles, orgdoc.DesignerRole{Subject: orgdoc.Subject{User: u.ID},
			Role: orgdoc.DesignerOrgAdmin, Scope: orgdoc.Scope{Org: true}})
	}
	if e.Roles == nil {
		e.Roles = map[string]string{}
	}
	for _, r := range append(orgRoles(v), orgdoc.RoleAuthenticatedUser, orgdoc.RoleNonAuthenticatedUser) {
		if _, ok := e.Roles[r]; !ok {
			e.Roles[r] = orgdoc.FlowGrant
		}
	}
	if level == "flow" {
		p.FlowPermissions.Flows[str(obj(req, "resource"), "id")] = *e
	}
	after, err := evaluate(docPDP(eng, v), req)
	if err != nil {
		return err.Error()
	}
	if a := parse(after); a.Decision || str(a.Context, "level") != level {
		return fmt.Sprintf("a %s-level deny (%s) is lifted by grants at that level and the bypass: %s", level, before, after)
	}
	return ""
}

// metamorphic are the variant checks, by property name: each is given the
// answer on the org as it is.
var metamorphic = map[string]func(eng *engine.Engine, o *orgdoc.Org, req orggen.Request, before string) string{
	"adding a share never denies (outside rule 7)":                         shareNeverDenies,
	"without groups and shares only bypass, legacy and flows allow":        isolatedAllowsOnlyBypassLegacyFlows,
	"a flow deny is never lifted by a grant at its level or by the bypass": denyStays,
}

// checkMetamorphic runs the variant checks on every other case (each
// builds and decides on variant orgs: the costliest checks per case);
// answers[i] is the answer to cases[i] on the org as it is.
func (w *world) checkMetamorphic(cases []rcase, answers []pdptest.Answers, f *failures) int {
	var n atomic.Int64
	parallel((len(cases)+1)/2, func(j int) {
		i := 2 * j
		c := cases[i]
		for name, check := range metamorphic {
			if msg := check(w.eng, c.org, c.req, answers[i].Central); msg != "" {
				f.add(name, c, "%s", msg)
			}
			n.Add(1)
		}
	})
	return int(n.Load())
}

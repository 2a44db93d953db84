package console

import (
	"fmt"
	"sort"
	"strings"

	"github.com/verdict-pdp/verdict/internal/decision"
	"github.com/verdict-pdp/verdict/internal/orgdoc"
)

// A manifest as the simulator shows it, in the words of FlowX's screens: the
// Share dialog, Runtime Settings → Active Policy, the designer-user bypass,
// UI flow allow-lists and component visibility, swimlane rights, flow
// permissions.

type manifestView struct {
	M        decision.Manifest
	Access   string
	Summary  []string // why, in an admin's words
	Details  []string // the policies' own reasons for access
	UIFlows  []flowView
	Procs    []procView
	Flows    []autoView
	Others   autoView
	Bypass   bool
	HasBuild bool
}

type flowView struct {
	ID     string
	Launch bool
	Why    []string
	Comps  []compView
	Other  string
}

type compView struct {
	ID, State string
	Why       []string
}

type procView struct {
	ID    string
	Start bool
	Why   []string
	Lanes []laneView
}

type laneView struct {
	ID     string
	Rights []string
	Why    []string
}

type autoView struct {
	ID    string
	Run   bool
	Level string
	Why   []string
}

func reasonsOf(d decision.Decision, rules ...string) []string {
	rs, _ := d.Context["reasons"].([]any)
	var out []string
	for _, r := range rs {
		m, _ := r.(map[string]any)
		rule, _ := m["rule"].(string)
		msg, _ := m["message"].(string)
		if len(rules) == 0 || contains(rules, rule) {
			out = append(out, msg)
		}
	}
	return out
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

var ruleWords = map[string]string{
	"default":           "the Active Policy's default",
	"group_override":    "a group override in Runtime Settings → Active Policy",
	"username_override": "a username override in Runtime Settings → Active Policy",
}

var denyWords = map[string]string{
	"no_runtime_role":      "no runtime role is shared with this user or any of their groups on this solution in this environment (Share dialog), and there is no designer-user bypass",
	"subject_not_active":   "the end user is not active (invited or disabled): an inactive user gets nothing, designer access included",
	"no_active_policy":     "this environment has no Active Policy: no build is served",
	"no_build_served":      "the Active Policy names no existing build (an empty branch?): nothing is served, and there is no fallback",
	"unknown_project":      "there is no such solution",
	"environment_required": "no environment was named",
}

func viewOf(m decision.Manifest, name string) manifestView {
	v := manifestView{M: m, HasBuild: m.Build != ""}
	if m.Access.Decision {
		v.Access = fmt.Sprintf("%s can open the solution: build %s is served by %s.", name, m.Build, ruleWords[m.Rule])
	} else {
		reason, _ := m.Access.Context["reason"].(string)
		w := denyWords[reason]
		if w == "" {
			w = reason
		}
		v.Access = fmt.Sprintf("%s cannot open the solution: %s.", name, w)
	}
	for _, msg := range reasonsOf(m.Access, "active_policy") {
		switch {
		case strings.HasPrefix(msg, "role override for"):
			v.Summary = append(v.Summary, "DEPRECATED: the "+strings.TrimSuffix(msg, " is deprecated and ignored")+" has no runtime effect (5.9 removed role overrides: redo it as a group override, then delete the row).")
		case strings.HasPrefix(msg, "group override for"), strings.HasPrefix(msg, "username override for"):
			v.Summary = append(v.Summary, "Active Policy: the "+msg+" (a username override beats group overrides; among groups the lowest priority number wins; else the default).")
		default:
			v.Summary = append(v.Summary, "Active Policy: "+msg+".")
		}
	}
	for _, msg := range reasonsOf(m.Access, "runtime_roles") {
		v.Summary = append(v.Summary, "Share: "+msg+".")
	}
	var via []string
	for _, msg := range reasonsOf(m.Access, "designer_bypass") {
		if d, ok := strings.CutPrefix(msg, "designer bypass: designerUser with "); ok {
			via = append(via, d)
		} else {
			v.Summary = append(v.Summary, "No designer-user bypass: "+msg+".")
		}
	}
	if len(via) > 0 && m.Access.Decision {
		v.Bypass = true
		v.Summary = append(v.Summary, "Designer-user bypass: "+name+" is a designer user with designer access to this solution ("+
			strings.Join(via, "; ")+"), so they run it without any runtime role: every UI flow and process, view, execute and self-assign on every swimlane, every component enabled. The bypass gives no runtime role: it cannot test \"as another role\", and automation-flow denies still apply.")
	}
	v.Details = reasonsOf(m.Access)
	for _, id := range sortedKeys(m.UIFlows) {
		f := m.UIFlows[id]
		fv := flowView{ID: id, Launch: f.Launch.Decision, Why: reasonsOf(f.Launch, "ui_flow"), Other: state(f.OtherComponents)}
		for _, cid := range sortedKeys(f.Components) {
			cd := f.Components[cid]
			cv := compView{ID: cid, State: state(cd), Why: reasonsOf(cd, "component")}
			fv.Comps = append(fv.Comps, cv)
			if f.Launch.Decision && cv.State != "enabled" && !v.Bypass {
				v.Summary = append(v.Summary, fmt.Sprintf("Component %s of UI flow %s is %s for %s: %s.", cid, id, cv.State, name, strings.Join(cv.Why, "; ")))
			}
		}
		v.UIFlows = append(v.UIFlows, fv)
	}
	for _, id := range sortedKeys(m.Processes) {
		p := m.Processes[id]
		pv := procView{ID: id, Start: p.Start.Decision, Why: reasonsOf(p.Start, "process")}
		for _, lane := range sortedKeys(p.Swimlanes) {
			lv := laneView{ID: lane}
			for _, a := range orgdoc.SwimlaneRights {
				if d := p.Swimlanes[lane][a]; d.Decision {
					lv.Rights = append(lv.Rights, strings.ReplaceAll(a, "_", "-"))
					lv.Why = append(lv.Why, reasonsOf(d, "swimlane")...)
				}
			}
			pv.Lanes = append(pv.Lanes, lv)
		}
		v.Procs = append(v.Procs, pv)
	}
	for _, id := range sortedKeys(m.Flows.Listed) {
		v.Flows = append(v.Flows, autoOf(id, m.Flows.Listed[id]))
	}
	v.Others = autoOf("any other flow", m.Flows.Others)
	return v
}

func autoOf(id string, d decision.Decision) autoView {
	level, _ := d.Context["level"].(string)
	if r, ok := d.Context["reason"].(string); ok {
		level = r
	}
	return autoView{ID: id, Run: d.Decision, Level: level, Why: reasonsOf(d, "flow")}
}

func state(d decision.Decision) string {
	s, _ := d.Context["state"].(string)
	return s
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func yesNo(b bool, yes, no string) string {
	if b {
		return yes
	}
	return no
}

// diff says, item by item, what changes from before to after.
func diff(a, b decision.Manifest) []string {
	var out []string
	say := func(what, x, y string) {
		if x != y {
			out = append(out, fmt.Sprintf("%s: %s → %s", what, x, y))
		}
	}
	access := func(m decision.Manifest) string {
		if m.Access.Decision {
			return "can open, build " + m.Build + " (" + strings.ReplaceAll(m.Rule, "_", " ") + ")"
		}
		r, _ := m.Access.Context["reason"].(string)
		return "cannot open (" + strings.ReplaceAll(r, "_", " ") + ")"
	}
	say("Solution", access(a), access(b))
	ids := map[string]bool{}
	for id := range a.UIFlows {
		ids[id] = true
	}
	for id := range b.UIFlows {
		ids[id] = true
	}
	for _, id := range sortedKeys(ids) {
		fa, okA := a.UIFlows[id]
		fb, okB := b.UIFlows[id]
		launch := func(f decision.UIFlow, ok bool) string {
			if !ok {
				return "not offered"
			}
			return yesNo(f.Launch.Decision, "can launch", "cannot launch")
		}
		say("UI flow "+id, launch(fa, okA), launch(fb, okB))
		cs := map[string]bool{}
		for c := range fa.Components {
			cs[c] = true
		}
		for c := range fb.Components {
			cs[c] = true
		}
		for _, c := range sortedKeys(cs) {
			comp := func(f decision.UIFlow, ok bool) string {
				if !ok {
					return "—"
				}
				if d, described := f.Components[c]; described {
					return state(d)
				}
				return state(f.OtherComponents)
			}
			sa, sb := comp(fa, okA), comp(fb, okB)
			say("Component "+id+"/"+c, sa, sb)
		}
	}
	ps := map[string]bool{}
	for id := range a.Processes {
		ps[id] = true
	}
	for id := range b.Processes {
		ps[id] = true
	}
	for _, id := range sortedKeys(ps) {
		pa, okA := a.Processes[id]
		pb, okB := b.Processes[id]
		start := func(p decision.Process, ok bool) string {
			if !ok {
				return "not offered"
			}
			return yesNo(p.Start.Decision, "can start", "cannot start")
		}
		say("Process "+id, start(pa, okA), start(pb, okB))
		lanes := map[string]bool{}
		for l := range pa.Swimlanes {
			lanes[l] = true
		}
		for l := range pb.Swimlanes {
			lanes[l] = true
		}
		for _, l := range sortedKeys(lanes) {
			rights := func(p decision.Process) string {
				var r []string
				for _, x := range orgdoc.SwimlaneRights {
					if p.Swimlanes[l][x].Decision {
						r = append(r, x)
					}
				}
				if len(r) == 0 {
					return "no rights"
				}
				return strings.Join(r, ", ")
			}
			say("Swimlane "+id+"/"+l, rights(pa), rights(pb))
		}
	}
	fs := map[string]bool{}
	for id := range a.Flows.Listed {
		fs[id] = true
	}
	for _, id := range sortedKeys(fs) {
		say("Automation flow "+id, yesNo(a.Flows.Listed[id].Decision, "can run", "cannot run"), yesNo(b.Flows.Listed[id].Decision, "can run", "cannot run"))
	}
	say("Other automation flows", yesNo(a.Flows.Others.Decision, "can run", "cannot run"), yesNo(b.Flows.Others.Decision, "can run", "cannot run"))
	return out
}

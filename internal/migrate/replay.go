package migrate

import (
	"context"
	"fmt"
	"io"
	"slices"

	"github.com/verdict-pdp/verdict/internal/assemble"
	"github.com/verdict-pdp/verdict/internal/authzen"
	"github.com/verdict-pdp/verdict/internal/decision"
	"github.com/verdict-pdp/verdict/internal/engine"
	"github.com/verdict-pdp/verdict/internal/orgdoc"
	"github.com/verdict-pdp/verdict/internal/pdp"
	"github.com/verdict-pdp/verdict/internal/verr"
)

// Decider answers one decision request (a pdp.Service does).
type Decider interface {
	Evaluate(ctx context.Context, r *authzen.Request, tok *decision.Token) (decision.Decision, error)
}

// Replay is the comparison of decisions before (Model51 on the export) and
// after (the Verdict engine on the migrated document), for every user who
// had access in 5.1, on every project and environment of the export: access
// to the solution (and the build served), every UI flow, process and
// swimlane right of the builds served before and after.
type Replay struct {
	Users     int `json:"users"`     // users who had access
	Questions int `json:"questions"` // decisions compared
	Agreed    int `json:"agreed"`
	// Explained differences: a cause the report names (a role override no
	// longer choosing the build, the designer bypass of Verdict).
	Explained []Difference `json:"explained"`
	// Unexplained differences: the migration lost or widened access.
	// A migration with any is refused.
	Unexplained []Difference `json:"unexplained"`
}

// Difference causes.
const (
	CauseRoleOverride   = "deprecated_role_override"
	CauseDesignerBypass = "designer_bypass"
)

// Difference is one decision that differs.
type Difference struct {
	User        string `json:"user"`
	Project     string `json:"project"`
	Environment string `json:"environment"`
	Question    string `json:"question"` // e.g. "launch ui_flow apply"
	Before      string `json:"before"`
	After       string `json:"after"`
	Cause       string `json:"cause,omitempty"`
	Message     string `json:"message,omitempty"`
}

// OK says whether every difference is explained.
func (r *Replay) OK() bool { return len(r.Unexplained) == 0 }

// WriteText writes the replay for people.
func (r *Replay) WriteText(w io.Writer) {
	fmt.Fprintf(w, "\nreplay: %d users who had access, %d decisions compared, %d agree, %d differ with a known cause, %d differ unexplained\n",
		r.Users, r.Questions, r.Agreed, len(r.Explained), len(r.Unexplained))
	for _, d := range r.Explained {
		fmt.Fprintf(w, "  changed  %s %s/%s %s: %s -> %s (%s)\n", d.User, d.Project, d.Environment, d.Question, d.Before, d.After, d.Message)
	}
	for _, d := range r.Unexplained {
		fmt.Fprintf(w, "  LOST OR WIDENED %s %s/%s %s: %s -> %s\n", d.User, d.Project, d.Environment, d.Question, d.Before, d.After)
	}
}

// RunReplay replays the decisions of every user who had access in 5.1.
// after decides on the migrated document (nil: the document in memory);
// eng evaluates the counterfactual that tells the designer bypass apart.
func RunReplay(ctx context.Context, e *Export, doc *orgdoc.Org, eng *engine.Engine, after Decider) (*Replay, error) {
	if after == nil {
		svc, err := pdp.New(pdp.Config{DecisionCache: -1}, eng, assemble.NewDocSource([]orgdoc.Org{*doc}))
		if err != nil {
			return nil, err
		}
		after = svc
	}
	// The same document with nobody a designer user: a decision that differs
	// there but agrees here is the designer bypass's doing.
	plain := *doc
	plain.Users = slices.Clone(doc.Users)
	for i := range plain.Users {
		plain.Users[i].DesignerUser = false
	}
	noBypass, err := pdp.New(pdp.Config{DecisionCache: -1}, eng, assemble.NewDocSource([]orgdoc.Org{plain}))
	if err != nil {
		return nil, err
	}
	rp := &replayer{ctx: ctx, m: NewModel51(e), exp: e, doc: doc, after: after, noBypass: noBypass,
		r: &Replay{Explained: []Difference{}, Unexplained: []Difference{}}}
	for _, u := range e.Users {
		if !rp.m.HadAccess(u.ID) {
			continue
		}
		rp.r.Users++
		for pi := range e.Projects {
			for _, env := range sortedKeys(e.Projects[pi].Environments) {
				if err := rp.env(u.ID, pi, env); err != nil {
					return nil, err
				}
			}
		}
	}
	return rp.r, nil
}

type replayer struct {
	ctx      context.Context
	m        *Model51
	exp      *Export
	doc      *orgdoc.Org
	after    Decider
	noBypass Decider
	r        *Replay
}

// question is one request with its 5.1 answer.
type question struct {
	name   string
	req    *authzen.Request
	before bool
}

func request(org, user, env, typ, id, action string, props map[string]any) *authzen.Request {
	return &authzen.Request{
		Subject:  &authzen.Entity{Type: "user", ID: user},
		Action:   &authzen.Action{Name: action},
		Resource: &authzen.Entity{Type: typ, ID: id, Properties: props},
		Context:  map[string]any{"org": org, "environment": env},
	}
}

// env compares every question about user on (project, env).
func (rp *replayer) env(user string, pi int, env string) error {
	ep, p := &rp.exp.Projects[pi], &rp.doc.Projects[pi]
	org := rp.exp.Org
	before := rp.m.Served(user, ep.ID, env)
	access := rp.m.Access(user, ep.ID, env)
	d, err := rp.after.Evaluate(rp.ctx, request(org, user, env, "solution", ep.ID, "access", nil), nil)
	if err != nil {
		return verr.Wrap(verr.CodeOf(err), "", err, "replay of %s on %s/%s: %v", user, ep.ID, env, err)
	}
	afterBuild, _ := d.Context["build"].(string)
	beforeBuild := ""
	if access {
		beforeBuild = before.Build.ID
	}
	if !d.Decision {
		afterBuild = ""
	}
	// The builds whose contents are asked about: served before and after.
	var builds []*orgdoc.Build
	for _, id := range []string{beforeBuild, afterBuild} {
		if b := p.FindBuild(id); b != nil && !slices.Contains(builds, b) {
			builds = append(builds, b)
		}
	}
	qs := []question{}
	rp.compare(user, ep.ID, env, "access solution", access, d.Decision, beforeBuild, afterBuild, before,
		request(org, user, env, "solution", ep.ID, "access", nil))
	props := map[string]any{"project": ep.ID}
	seen := map[string]bool{}
	for _, b := range builds {
		for _, f := range b.UIFlows {
			if !seen["f:"+f.ID] {
				seen["f:"+f.ID] = true
				qs = append(qs, question{"launch ui_flow " + f.ID, request(org, user, env, "ui_flow", f.ID, "launch", props), rp.m.Launch(user, ep.ID, env, f.ID)})
			}
		}
		for _, pr := range b.Processes {
			if !seen["p:"+pr.ID] {
				seen["p:"+pr.ID] = true
				qs = append(qs, question{"start process " + pr.ID, request(org, user, env, "process", pr.ID, "start", props), rp.m.Start(user, ep.ID, env, pr.ID)})
			}
			for _, lane := range sortedKeys(pr.Swimlanes) {
				if seen["s:"+pr.ID+"/"+lane] {
					continue
				}
				seen["s:"+pr.ID+"/"+lane] = true
				lp := map[string]any{"project": ep.ID, "process": pr.ID}
				for _, right := range orgdoc.SwimlaneRights {
					qs = append(qs, question{right + " swimlane " + pr.ID + "/" + lane, request(org, user, env, "swimlane", lane, right, lp),
						rp.m.Swimlane(user, ep.ID, env, pr.ID, lane, right)})
				}
			}
		}
	}
	for _, q := range qs {
		d, err := rp.after.Evaluate(rp.ctx, q.req, nil)
		if err != nil {
			return verr.Wrap(verr.CodeOf(err), "", err, "replay of %s on %s/%s: %v", user, ep.ID, env, err)
		}
		rp.compare(user, ep.ID, env, q.name, q.before, d.Decision, beforeBuild, afterBuild, before, q.req)
	}
	return nil
}

func answer(ok bool, build string) string {
	switch {
	case !ok:
		return "deny"
	case build != "":
		return "allow (build " + build + ")"
	}
	return "allow"
}

// compare records one question, explaining a difference when it can.
func (rp *replayer) compare(user, project, env, name string, before, after bool, beforeBuild, afterBuild string, served Served, req *authzen.Request) {
	rp.r.Questions++
	isAccess := name == "access solution"
	if before == after && (!isAccess || beforeBuild == afterBuild) {
		rp.r.Agreed++
		return
	}
	diff := Difference{User: user, Project: project, Environment: env, Question: name, Before: answer(before, ""), After: answer(after, "")}
	if isAccess {
		diff.Before, diff.After = answer(before, beforeBuild), answer(after, afterBuild)
	}
	switch {
	case served.Rule == "role_override" && beforeBuild != afterBuild:
		diff.Cause = CauseRoleOverride
		diff.Message = fmt.Sprintf("5.1 served build %s through the role override of %s, which Verdict keeps deprecated and never uses; see its suggested group override",
			beforeBuild, served.Role)
		rp.r.Explained = append(rp.r.Explained, diff)
	case before != after && rp.withoutBypass(req, before):
		diff.Cause = CauseDesignerBypass
		diff.Message = "the user is a designer of the project: Verdict's designer bypass (rule 4) lets it run the project without a runtime role"
		rp.r.Explained = append(rp.r.Explained, diff)
	default:
		rp.r.Unexplained = append(rp.r.Unexplained, diff)
	}
}

// withoutBypass says whether req, decided with nobody a designer user,
// answers want (an error answers nothing: the difference stays unexplained).
func (rp *replayer) withoutBypass(req *authzen.Request, want bool) bool {
	d, err := rp.noBypass.Evaluate(rp.ctx, req, nil)
	return err == nil && d.Decision == want
}

package gen

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
)

// mix is the share of each kind of decision in a generated request mix, in
// percent: what a low-code front end asks most (UI flows and their
// components, solution access) first, then processes and automation flows.
var mixes = []struct {
	pct  int
	kind string
}{
	{30, "ui_flow"}, {20, "solution"}, {15, "component"}, {10, "process"}, {10, "swimlane"}, {15, "flow"},
}

// Request mixes of WriteRequests.
const (
	// MixUniform: every request names a user, project and environment drawn
	// uniformly: no cache of subjects or decisions can answer it, so the mix
	// measures reading facts and evaluating, nothing else.
	MixUniform = "uniform"
	// MixSessions: what front ends send. A session is one user working in
	// one project and environment; it asks sessionLength decisions drawn from
	// what that screen needs (so some repeat, as UIs re-check on navigation).
	// openSessions sessions are interleaved, their users drawn uniformly.
	MixSessions = "sessions"
	// MixNoRepeat: no two requests alike in the whole stream, by
	// construction (norepeat.go): kinds in the shares of mixes, users,
	// projects, environments and items enumerated without repetition.
	MixNoRepeat = "norepeat"
	// MixScreens: screens of ScreenSize requests each, one user in one
	// project and environment asking for ScreenSize distinct UI flows,
	// components and swimlane rights of the build; no screen repeats
	// (norepeat.go). Send it in batches of ScreenSize.
	MixScreens = "screens"

	sessionLength = 10
	openSessions  = 64
)

// Mixes lists the request mixes of --mix.
var Mixes = []string{MixSessions, MixUniform, MixNoRepeat, MixScreens}

// WriteRequests streams c.Requests AuthZEN evaluation requests about the org
// Write generates with the same configuration, one JSON object per line, in
// the mix c.Mix. Users are drawn uniformly from all of them (about 1 % are
// disabled). The same configuration gives the same bytes.
func WriteRequests(w io.Writer, c Config) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	r := rand.New(rand.NewPCG(c.Seed^0x5bd1e995, c.Seed))
	enc := json.NewEncoder(bw)
	var err error
	switch c.Mix {
	case MixNoRepeat:
		err = writeNoRepeat(enc, r, c)
	case MixScreens:
		err = writeScreens(enc, c)
	default:
		err = writeMix(enc, r, c)
	}
	if err != nil {
		return err
	}
	return bw.Flush()
}

func writeMix(enc *json.Encoder, r *rand.Rand, c Config) error {
	type session struct {
		user, project, env string
		left               int
	}
	open := make([]session, openSessions)
	newSession := func() session {
		return session{user: fmt.Sprintf("u%d", r.IntN(c.Users)), project: fmt.Sprintf("p%d", r.IntN(c.Projects)),
			env: envs[r.IntN(len(envs))], left: sessionLength}
	}
	for i := range open {
		open[i] = newSession()
	}
	for range c.Requests {
		var s session
		if c.Mix == MixSessions {
			i := r.IntN(len(open))
			if open[i].left == 0 {
				open[i] = newSession()
			}
			open[i].left--
			s = open[i]
		} else {
			s = newSession()
		}
		its := items[drawKind(r, nil)]
		if err := enc.Encode(its[r.IntN(len(its))].request(c.Org, s.user, s.project, s.env)); err != nil {
			return err
		}
	}
	return nil
}

// drawKind draws a kind of decision in the shares of mixes, leaving out the
// kinds in skip (renormalizing the others); "" when every kind is skipped.
func drawKind(r *rand.Rand, skip map[string]bool) string {
	total := 0
	for _, m := range mixes {
		if !skip[m.kind] {
			total += m.pct
		}
	}
	if total == 0 {
		return ""
	}
	n := r.IntN(total)
	for _, m := range mixes {
		if skip[m.kind] {
			continue
		}
		if n < m.pct {
			return m.kind
		}
		n -= m.pct
	}
	return "" // unreachable: n < total
}

// item is one thing a request may ask about in a project, whoever asks.
type item struct {
	typ, id, action string
	props           map[string]any // besides the project
}

// items lists every distinct item of each kind in a generated build (the
// same in every build): what the no-repeat stream enumerates.
var items = func() map[string][]item {
	m := map[string][]item{
		"solution": {{typ: "solution", action: "access"}}, // its id is the project
		"process":  {{typ: "process", id: "pr", action: "start"}},
		"flow":     {{typ: "flow", id: "sync", action: "run"}},
	}
	for f := range uiFlows {
		flow := fmt.Sprintf("f%d", f)
		m["ui_flow"] = append(m["ui_flow"], item{typ: "ui_flow", id: flow, action: "launch"})
		for _, c := range componentIDs {
			m["component"] = append(m["component"], item{typ: "component", id: c, action: "view", props: map[string]any{"ui_flow": flow}})
		}
	}
	for _, lane := range swimlaneIDs {
		for _, a := range laneActions {
			m["swimlane"] = append(m["swimlane"], item{typ: "swimlane", id: lane, action: a, props: map[string]any{"process": "pr"}})
		}
	}
	return m
}()

func (it item) request(org, user, project, env string) map[string]any {
	res := map[string]any{"type": it.typ}
	if it.typ == "solution" {
		res["id"] = project
	} else {
		props := map[string]any{"project": project}
		for k, v := range it.props {
			props[k] = v
		}
		res["id"], res["properties"] = it.id, props
	}
	return map[string]any{
		"subject":  map[string]any{"type": "user", "id": user},
		"action":   map[string]any{"name": it.action},
		"resource": res,
		"context":  map[string]any{"org": org, "environment": env},
	}
}

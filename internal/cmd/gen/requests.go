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

	sessionLength = 10
	openSessions  = 64
)

// WriteRequests streams c.Requests AuthZEN evaluation requests about the org
// Write generates with the same configuration, one JSON object per line, in
// the mix c.Mix. Users are drawn uniformly from all of them (about 1 % are
// disabled). The same configuration gives the same bytes.
func WriteRequests(w io.Writer, c Config) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	r := rand.New(rand.NewPCG(c.Seed^0x5bd1e995, c.Seed))
	enc := json.NewEncoder(bw)
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
		if err := enc.Encode(request(r, c, s.user, s.project, s.env)); err != nil {
			return err
		}
	}
	return bw.Flush()
}

func request(r *rand.Rand, c Config, user, project, env string) map[string]any {
	flow := fmt.Sprintf("f%d", r.IntN(5))
	req := map[string]any{
		"subject": map[string]any{"type": "user", "id": user},
		"context": map[string]any{"org": c.Org, "environment": env},
	}
	n := r.IntN(100)
	kind := mixes[len(mixes)-1].kind
	for _, m := range mixes {
		if n < m.pct {
			kind = m.kind
			break
		}
		n -= m.pct
	}
	props := map[string]any{"project": project}
	switch kind {
	case "solution":
		req["action"], req["resource"] = act("access"), map[string]any{"type": "solution", "id": project}
	case "ui_flow":
		req["action"], req["resource"] = act("launch"), map[string]any{"type": "ui_flow", "id": flow, "properties": props}
	case "component":
		props["ui_flow"] = flow
		req["action"], req["resource"] = act("view"), map[string]any{"type": "component", "id": "btn", "properties": props}
	case "process":
		req["action"], req["resource"] = act("start"), map[string]any{"type": "process", "id": "pr", "properties": props}
	case "swimlane":
		props["process"] = "pr"
		req["action"], req["resource"] = act([]string{"view", "execute", "self_assign"}[r.IntN(3)]), map[string]any{"type": "swimlane", "id": "s", "properties": props}
	default:
		req["action"], req["resource"] = act("run"), map[string]any{"type": "flow", "id": "sync", "properties": props}
	}
	return req
}

func act(name string) map[string]any { return map[string]any{"name": name} }

package orggen

import (
	"encoding/json"
	"math/rand/v2"

	"github.com/verdict-pdp/verdict/internal/orgdoc"
)

// Request is an AuthZEN evaluation request as JSON-shaped values.
type Request = map[string]any

// Unknown names that requests use beside the org's own.
const (
	UnknownUser    = "nobody"
	UnknownProject = "p9"
	UnknownEnv     = "qa"
	UnknownOrg     = "no-such-org"
	UnknownID      = "zzz"
)

// actionsOf are the built-in resource types and their actions (DESIGN.md §4).
var actionsOf = map[string][]string{
	"solution":  {"access"},
	"ui_flow":   {"launch"},
	"component": {"view"},
	"process":   {"start"},
	"swimlane":  {"view", "execute", "self_assign"},
	"flow":      {"run"},
	"project":   {"read", "edit", "manage_access", "create_build", "change_active_policy"},
	"org": {"org_runtime_users_read", "org_runtime_users_write", "org_runtime_roles_read",
		"org_runtime_roles_write", "org_runtime_groups_read", "org_runtime_groups_write"},
}

// ResourceTypes are the built-in resource types, in a fixed order.
var ResourceTypes = []string{"solution", "ui_flow", "component", "process", "swimlane", "flow", "project", "org"}

// Actions returns the actions of a built-in resource type.
func Actions(rtype string) []string { return actionsOf[rtype] }

// Requests returns n random requests about org o (seeded): every resource
// type and action, users of every status, unknown users, anonymous
// subjects, unknown projects, flows, components and environments, a
// missing environment, an unknown org, explain on and off.
func Requests(o *orgdoc.Org, seed uint64, n int) []Request {
	g := &gen{r: rand.New(rand.NewPCG(seed, 0x51ed270b27a1f3c5)), o: o}
	out := make([]Request, n)
	for i := range out {
		out[i] = g.request()
	}
	return out
}

func (g *gen) request() Request {
	rtype := ResourceTypes[g.r.IntN(len(ResourceTypes))]
	// UI decisions are most of what front ends ask: weigh them up.
	if g.chance(25) {
		rtype = g.pick([]string{"ui_flow", "component", "swimlane", "flow"})
	}
	action := g.pick(actionsOf[rtype])
	var subject map[string]any
	switch x := g.r.IntN(100); {
	case x < 80:
		subject = map[string]any{"type": "user", "id": g.pick(g.userIDs())}
	case x < 88:
		subject = map[string]any{"type": "user", "id": UnknownUser}
	default:
		subject = map[string]any{"type": "anonymous", "id": "anon"}
	}
	ctx := map[string]any{"org": g.o.Org}
	if g.chance(1) {
		ctx["org"] = UnknownOrg
	}
	switch x := g.r.IntN(100); {
	case x < 88:
		ctx["environment"] = g.pick(g.o.Environments)
	case x < 94:
		ctx["environment"] = UnknownEnv
	}
	if g.chance(50) {
		ctx["explain"] = true
	}
	project := UnknownProject
	if g.chance(92) {
		project = g.o.Projects[g.r.IntN(len(g.o.Projects))].ID
	}
	res := map[string]any{"type": rtype}
	props := map[string]any{"project": project}
	switch rtype {
	case "solution", "project":
		res["id"] = project
		props = nil
	case "ui_flow":
		res["id"] = g.maybeUnknown(uiFlowIDs)
	case "component":
		res["id"] = g.maybeUnknown(componentIDs)
		props["ui_flow"] = g.maybeUnknown(uiFlowIDs)
	case "process":
		res["id"] = g.maybeUnknown(processIDs)
	case "swimlane":
		res["id"] = g.maybeUnknown(swimlaneIDs)
		props["process"] = g.maybeUnknown(processIDs)
	case "flow":
		res["id"] = g.maybeUnknown(automationFlows)
	case "org":
		res["id"] = g.o.Org
		if g.chance(10) {
			res["id"] = UnknownOrg
		}
		props = nil
	}
	if props != nil {
		res["properties"] = props
	}
	// Now and then, a request that is not built in.
	switch x := g.r.IntN(200); {
	case x == 0:
		res["type"] = "widget"
	case x == 1:
		action = "delete"
	}
	return Request{"subject": subject, "action": map[string]any{"name": action}, "resource": res, "context": ctx}
}

func (g *gen) maybeUnknown(ids []string) string {
	if g.chance(8) {
		return UnknownID
	}
	return g.pick(ids)
}

// JSON renders a request.
func JSON(r Request) json.RawMessage {
	b, err := json.Marshal(r)
	if err != nil {
		// Requests hold only JSON values.
		panic(err)
	}
	return b
}

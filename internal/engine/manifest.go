package engine

import (
	"context"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/verdict-pdp/verdict/internal/decision"
	"github.com/verdict-pdp/verdict/internal/verr"
)

// ManifestQuery is the permission manifest (policies/manifest): its input is
// the request for access to the solution.
const ManifestQuery = "data.verdict.manifest.result"

// Manifest evaluates the permission manifest for request (an AuthZEN request
// for access to a solution, as AST) with its facts, in one evaluation. Org,
// user, project and environment are left for the caller to fill. An
// evaluation error, or an answer not of the manifest's shape, is a
// PolicyError; callers deny on any error.
func (e *Engine) Manifest(ctx context.Context, request, facts ast.Value) (decision.Manifest, error) {
	v, err := e.eval(ctx, e.cur.Load().manifest, request, facts)
	if err != nil {
		return decision.Manifest{}, err
	}
	if v == nil {
		return decision.Manifest{}, verr.New(verr.PolicyError, "", "the policies define no manifest (%s)", ManifestQuery)
	}
	return ManifestOf(v)
}

// ManifestOf reads the manifest policy's answer (decoded JSON) into its type.
func ManifestOf(v any) (decision.Manifest, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return decision.Manifest{}, shapeError("manifest", "an object")
	}
	var out decision.Manifest
	var err error
	if out.Access, err = decisionOf(m["access"], "access"); err != nil {
		return out, err
	}
	if out.Access.Decision {
		out.Build, _ = out.Access.Context["build"].(string)
		out.Rule, _ = out.Access.Context["rule"].(string)
	}
	flows, err := objectOf(m["ui_flows"], "ui_flows")
	if err != nil {
		return out, err
	}
	out.UIFlows = make(map[string]decision.UIFlow, len(flows))
	for id, x := range flows {
		f, err := objectOf(x, "ui_flows."+id)
		if err != nil {
			return out, err
		}
		var u decision.UIFlow
		if u.Launch, err = decisionOf(f["launch"], "ui_flows."+id+".launch"); err != nil {
			return out, err
		}
		if u.Components, err = decisionsOf(f["components"], "ui_flows."+id+".components"); err != nil {
			return out, err
		}
		if u.OtherComponents, err = decisionOf(f["other_components"], "ui_flows."+id+".other_components"); err != nil {
			return out, err
		}
		out.UIFlows[id] = u
	}
	procs, err := objectOf(m["processes"], "processes")
	if err != nil {
		return out, err
	}
	out.Processes = make(map[string]decision.Process, len(procs))
	for id, x := range procs {
		path := "processes." + id
		p, err := objectOf(x, path)
		if err != nil {
			return out, err
		}
		var pr decision.Process
		if pr.Start, err = decisionOf(p["start"], path+".start"); err != nil {
			return out, err
		}
		lanes, err := objectOf(p["swimlanes"], path+".swimlanes")
		if err != nil {
			return out, err
		}
		pr.Swimlanes = make(map[string]map[string]decision.Decision, len(lanes))
		for s, l := range lanes {
			if pr.Swimlanes[s], err = decisionsOf(l, path+".swimlanes."+s); err != nil {
				return out, err
			}
		}
		out.Processes[id] = pr
	}
	fl, err := objectOf(m["flows"], "flows")
	if err != nil {
		return out, err
	}
	if out.Flows.Listed, err = decisionsOf(fl["listed"], "flows.listed"); err != nil {
		return out, err
	}
	if out.Flows.Others, err = decisionOf(fl["others"], "flows.others"); err != nil {
		return out, err
	}
	return out, nil
}

func shapeError(path, want string) error {
	return verr.New(verr.PolicyError, "", "manifest %s is not %s", path, want)
}

func objectOf(v any, path string) (map[string]any, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, shapeError(path, "an object")
	}
	return m, nil
}

func decisionOf(v any, path string) (decision.Decision, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return decision.Decision{}, shapeError(path, "a decision")
	}
	d := decision.Decision{}
	if d.Decision, ok = m["decision"].(bool); !ok {
		return decision.Decision{}, shapeError(path+".decision", "a boolean")
	}
	d.Context, _ = m["context"].(map[string]any)
	return d, nil
}

func decisionsOf(v any, path string) (map[string]decision.Decision, error) {
	m, err := objectOf(v, path)
	if err != nil {
		return nil, err
	}
	out := make(map[string]decision.Decision, len(m))
	for k, x := range m {
		if out[k], err = decisionOf(x, path+"."+k); err != nil {
			return nil, err
		}
	}
	return out, nil
}

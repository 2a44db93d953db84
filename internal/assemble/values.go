package assemble

import (
	"github.com/verdict-pdp/verdict/internal/orgdoc"
)

// The functions here render org document records in the indexed shape, as
// plain JSON values (map[string]any, []any, string, bool, int): the one place
// that shape is written down in Go. docs/data-model.md describes it.

// UserValue renders an end user record.
func UserValue(u orgdoc.User) map[string]any {
	m := map[string]any{"id": u.ID, "username": u.Username, "status": u.Status}
	if u.DesignerUser {
		m["designer_user"] = true
	}
	if u.ServiceAccount {
		m["service_account"] = true
	}
	if len(u.Attributes) > 0 {
		m["attributes"] = attrs(u.Attributes)
	}
	return m
}

// GroupValue renders a runtime group (without its members: membership is
// indexed per user).
func GroupValue(g orgdoc.Group) map[string]any {
	m := map[string]any{}
	if len(g.Attributes) > 0 {
		m["attributes"] = attrs(g.Attributes)
	}
	return m
}

// DesignerRoleValue renders a designer role assignment without its subject
// (it is indexed by subject).
func DesignerRoleValue(d orgdoc.DesignerRole) map[string]any {
	scope := map[string]any{}
	switch {
	case d.Scope.Org:
		scope["org"] = true
	case d.Scope.Workspace != "":
		scope["workspace"] = d.Scope.Workspace
	default:
		scope["project"] = d.Scope.Project
	}
	return map[string]any{"role": d.Role, "scope": scope}
}

// BuildValue renders an immutable build manifest, UI flows and processes keyed by id.
func BuildValue(b orgdoc.Build) map[string]any {
	flows := map[string]any{}
	for _, f := range b.UIFlows {
		fm := map[string]any{"roles": strs(f.Roles)}
		if len(f.Components) > 0 {
			comps := map[string]any{}
			for id, c := range f.Components {
				cm := map[string]any{}
				if len(c.HiddenFor) > 0 {
					cm["hidden_for"] = strs(c.HiddenFor)
				}
				if len(c.DisabledFor) > 0 {
					cm["disabled_for"] = strs(c.DisabledFor)
				}
				comps[id] = cm
			}
			fm["components"] = comps
		}
		flows[f.ID] = fm
	}
	procs := map[string]any{}
	for _, p := range b.Processes {
		lanes := map[string]any{}
		for lane, byRole := range p.Swimlanes {
			lm := map[string]any{}
			for role, rights := range byRole {
				lm[role] = strs(rights)
			}
			lanes[lane] = lm
		}
		procs[p.ID] = map[string]any{"roles": strs(p.Roles), "swimlanes": lanes}
	}
	m := map[string]any{
		"branch": b.Branch, "created": b.Created, "roles": strs(b.Roles),
		"ui_flows": flows, "processes": procs,
	}
	// created_key is what latest_on_branch compares (as text). A build
	// without one (a time validation refuses) is never the latest.
	if k, err := orgdoc.CreatedKey(b.Created); err == nil {
		m["created_key"] = k
	}
	return m
}

// FlowPermissionsValue renders a project's automation-flow permissions.
func FlowPermissionsValue(fp *orgdoc.FlowPermissions) map[string]any {
	m := map[string]any{}
	if fp.Defaults != nil {
		m["defaults"] = entries(*fp.Defaults)
	}
	if len(fp.Flows) > 0 {
		flows := map[string]any{}
		for id, e := range fp.Flows {
			flows[id] = entries(e)
		}
		m["flows"] = flows
	}
	return m
}

// PolicyValue renders an active-policy choice.
func PolicyValue(p orgdoc.Policy) map[string]any {
	if p.Build != "" {
		return map[string]any{"build": p.Build}
	}
	return map[string]any{"latest_on_branch": p.LatestOnBranch}
}

func entries(e orgdoc.FlowEntries) map[string]any {
	m := map[string]any{}
	if len(e.Users) > 0 {
		m["users"] = strMap(e.Users)
	}
	if len(e.Roles) > 0 {
		m["roles"] = strMap(e.Roles)
	}
	return m
}

func attrs(a map[string][]string) map[string]any {
	m := make(map[string]any, len(a))
	for k, v := range a {
		m[k] = strs(v)
	}
	return m
}

func strMap(s map[string]string) map[string]any {
	m := make(map[string]any, len(s))
	for k, v := range s {
		m[k] = v
	}
	return m
}

func strs(xs []string) []any {
	out := make([]any, len(xs))
	for i, x := range xs {
		out[i] = x
	}
	return out
}

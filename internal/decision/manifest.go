package decision

import "context"

// ManifestRequest asks for the permission manifest of one user in one
// solution (project) and environment.
type ManifestRequest struct {
	Org         string
	User        string
	Project     string
	Environment string
	// Explain asks for the reasons of every answer.
	Explain bool
	// Token holds the verified claims of the user's own token, if any.
	Token *Token
}

// Manifest is everything a platform's front end needs for one user in one
// solution and environment (policies/manifest): each answer in it is exactly
// the single decision the entry point gives for that item.
type Manifest struct {
	Org         string `json:"org"`
	User        string `json:"user"`
	Project     string `json:"project"`
	Environment string `json:"environment"`
	// Access is the decision on the solution (access); its context names the
	// build served and the rule that chose it.
	Access Decision `json:"access"`
	// Build and Rule repeat Access's context when access is granted.
	Build string `json:"build,omitempty"`
	Rule  string `json:"rule,omitempty"`
	// UIFlows and Processes are those of the served build, by id; empty
	// without access (nothing of a build is granted then).
	UIFlows   map[string]UIFlow  `json:"ui_flows"`
	Processes map[string]Process `json:"processes"`
	// Flows are the automation flows (rule 7).
	Flows Flows `json:"flows"`
	// Stale says the facts were cached ones answered while the store could
	// not be reached, and how old they were.
	Stale      bool  `json:"stale,omitempty"`
	StaleAgeMS int64 `json:"stale_age_ms,omitempty"`
}

// UIFlow is the launch decision of a UI flow, the view decision of each
// component the build describes (context.state: enabled, disabled, hidden)
// and that of any other component (which has no rules: enabled whenever the
// flow may be launched).
type UIFlow struct {
	Launch          Decision            `json:"launch"`
	Components      map[string]Decision `json:"components"`
	OtherComponents Decision            `json:"other_components"`
}

// Process is the start decision of a process and, per swimlane, the decision
// of each right (view, execute, self_assign).
type Process struct {
	Start     Decision                       `json:"start"`
	Swimlanes map[string]map[string]Decision `json:"swimlanes"`
}

// Flows are the run decisions of the flows that have entries in the
// project's flow permissions (Listed, by id) and the decision for every
// other flow (Others).
type Flows struct {
	Listed map[string]Decision `json:"listed"`
	Others Decision            `json:"others"`
}

// Manifester answers permission manifests: the central PDP and an edge PDP.
// Like a decision, a manifest fails closed: with an error comes a manifest
// that grants nothing (Denied).
type Manifester interface {
	Manifest(ctx context.Context, r ManifestRequest) (Manifest, error)
}

// Denied is the manifest that grants nothing, for a request that could not be
// answered: every decision in it is deny with d's context.
func Denied(r ManifestRequest, d Decision) Manifest {
	return Manifest{Org: r.Org, User: r.User, Project: r.Project, Environment: r.Environment,
		Access: d, UIFlows: map[string]UIFlow{}, Processes: map[string]Process{},
		Flows: Flows{Listed: map[string]Decision{}, Others: d}}
}

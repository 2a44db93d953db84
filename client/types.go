package client

// Subject is an AuthZEN subject: a user ({"type": "user", "id": ...}), an
// anonymous caller ({"type": "anonymous"}), or an extension's subject type.
// In a subject search only Type is set.
type Subject struct {
	Type       string         `json:"type"`
	ID         string         `json:"id,omitempty"`
	Properties map[string]any `json:"properties,omitempty"`
}

// Resource is an AuthZEN resource (solution, ui_flow, component, process,
// swimlane, flow, project, org, or an extension type). In a resource search
// only Type (and Properties) are set.
type Resource struct {
	Type       string         `json:"type"`
	ID         string         `json:"id,omitempty"`
	Properties map[string]any `json:"properties,omitempty"`
}

// Action is what the subject wants to do.
type Action struct {
	Name       string         `json:"name"`
	Properties map[string]any `json:"properties,omitempty"`
}

// Context is an AuthZEN request context: "org" (default: the caller's, else
// the server's default org), "environment" (runtime types), "explain" (true
// lists the reasons behind an answer).
type Context map[string]any

// EvaluationRequest is one AuthZEN access evaluation. A nil Subject is an
// anonymous caller.
type EvaluationRequest struct {
	Subject  *Subject  `json:"subject,omitempty"`
	Action   *Action   `json:"action,omitempty"`
	Resource *Resource `json:"resource,omitempty"`
	Context  Context   `json:"context,omitempty"`
}

// Decision is the answer to one evaluation. Context carries what the
// resource type answers (build and rule of a solution, state of a
// component, level of a flow) and, on a deny, the reason.
type Decision struct {
	Decision bool           `json:"decision"`
	Context  map[string]any `json:"context,omitempty"`
}

// Reason is context.reason ("" when the answer gives none): why a deny
// denied, or why the PDP could not decide ("unavailable", "facts_invalid",
// "unknown_org", ...).
func (d Decision) Reason() string {
	s, _ := d.Context["reason"].(string)
	return s
}

// DecisionID is context.decision_id: the id under which the PDP logged the
// decision (decision log, traces); "" when it logs and traces nothing.
func (d Decision) DecisionID() string {
	s, _ := d.Context["decision_id"].(string)
	return s
}

// Stale reports context.stale: the facts behind the answer were cached ones,
// answered while the PDP's store could not be reached.
func (d Decision) Stale() bool {
	b, _ := d.Context["stale"].(bool)
	return b
}

// Evaluations semantics of a batch (AuthZEN 1.0 options.evaluations_semantic).
const (
	// ExecuteAll decides every item, in parallel (the default).
	ExecuteAll = "execute_all"
	// DenyOnFirstDeny decides in order and stops after the first deny.
	DenyOnFirstDeny = "deny_on_first_deny"
	// PermitOnFirstPermit decides in order and stops after the first permit.
	PermitOnFirstPermit = "permit_on_first_permit"
)

// EvaluationsOptions are the options of a batch.
type EvaluationsOptions struct {
	EvaluationsSemantic string `json:"evaluations_semantic,omitempty"`
}

// EvaluationsRequest is a batch: Subject, Action, Resource and Context are
// defaults for every item (an item's own members replace them; its context
// is merged key by key). At most 1000 items by default (the server's
// limit).
type EvaluationsRequest struct {
	Subject     *Subject            `json:"subject,omitempty"`
	Action      *Action             `json:"action,omitempty"`
	Resource    *Resource           `json:"resource,omitempty"`
	Context     Context             `json:"context,omitempty"`
	Evaluations []EvaluationRequest `json:"evaluations"`
	Options     *EvaluationsOptions `json:"options,omitempty"`
}

// EvaluationsResponse holds the answers in the items' order; with
// DenyOnFirstDeny or PermitOnFirstPermit it stops after the deciding item.
// An item that was malformed or could not be decided is a deny whose
// reason is the error's code.
type EvaluationsResponse struct {
	Evaluations []Decision `json:"evaluations"`
}

// Page pages a search: Limit (1..1000, default 100) and Token (the
// NextToken of the previous page).
type Page struct {
	Limit int    `json:"limit,omitempty"`
	Token string `json:"token,omitempty"`
}

// PageResponse says where the next page starts; NextToken is "" on the last
// page.
type PageResponse struct {
	NextToken string `json:"next_token"`
}

// SearchRequest is the body of the three AuthZEN searches: an evaluation
// in which the searched entity is partial (the subject with only Type, the
// resource with only Type and Properties, or no action).
type SearchRequest struct {
	Subject  *Subject  `json:"subject,omitempty"`
	Action   *Action   `json:"action,omitempty"`
	Resource *Resource `json:"resource,omitempty"`
	Context  Context   `json:"context,omitempty"`
	Page     *Page     `json:"page,omitempty"`
}

// SubjectSearchResponse is a page of subjects.
type SubjectSearchResponse struct {
	Results []Subject    `json:"results"`
	Page    PageResponse `json:"page"`
}

// ResourceSearchResponse is a page of resources.
type ResourceSearchResponse struct {
	Results []Resource   `json:"results"`
	Page    PageResponse `json:"page"`
}

// ActionSearchResponse is a page of actions.
type ActionSearchResponse struct {
	Results []Action     `json:"results"`
	Page    PageResponse `json:"page"`
}

// FilterRequest names the user a business filter is computed for: by id
// (User), or by the end user's own OIDC token (Token, verified by the PDP).
// Org defaults to the caller's, else the server's default org.
type FilterRequest struct {
	Org   string `json:"org,omitempty"`
	User  string `json:"user,omitempty"`
	Token string `json:"token,omitempty"`
}

// Filter is a business filter's condition: Field IN Values (no values:
// the condition matches nothing), and the same as a SQL WHERE clause.
type Filter struct {
	Field    string   `json:"field"`
	Operator string   `json:"operator"`
	Values   []string `json:"values"`
	SQL      SQL      `json:"sql"`
}

// SQL is a condition as a WHERE clause of a SQL dialect.
type SQL struct {
	Dialect string `json:"dialect"`
	Where   string `json:"where"`
}

// ManifestRequest asks for the permission manifest of a user (by id, or by
// the user's own token) in a solution (Project) and Environment.
type ManifestRequest struct {
	Org         string `json:"org,omitempty"`
	User        string `json:"user,omitempty"`
	Token       string `json:"token,omitempty"`
	Project     string `json:"project"`
	Environment string `json:"environment"`
	Explain     bool   `json:"explain,omitempty"`
}

// Manifest is everything a front end needs for one user in one solution
// and environment; each answer in it is the single decision about that
// item. Without access, UIFlows and Processes are empty.
type Manifest struct {
	Org         string             `json:"org"`
	User        string             `json:"user"`
	Project     string             `json:"project"`
	Environment string             `json:"environment"`
	Access      Decision           `json:"access"`
	Build       string             `json:"build,omitempty"`
	Rule        string             `json:"rule,omitempty"`
	UIFlows     map[string]UIFlow  `json:"ui_flows"`
	Processes   map[string]Process `json:"processes"`
	Flows       ManifestFlows      `json:"flows"`
	Stale       bool               `json:"stale,omitempty"`
	StaleAgeMS  int64              `json:"stale_age_ms,omitempty"`
}

// UIFlow is a UI flow's launch decision, the view decision of each
// component the build describes (context.state enabled, disabled or
// hidden) and that of any other component.
type UIFlow struct {
	Launch          Decision            `json:"launch"`
	Components      map[string]Decision `json:"components"`
	OtherComponents Decision            `json:"other_components"`
}

// Process is a process's start decision and, per swimlane, the decision of
// each right (view, execute, self_assign).
type Process struct {
	Start     Decision                       `json:"start"`
	Swimlanes map[string]map[string]Decision `json:"swimlanes"`
}

// ManifestFlows are the run decisions of the automation flows listed in the
// project's flow permissions, and that of any other flow.
type ManifestFlows struct {
	Listed map[string]Decision `json:"listed"`
	Others Decision            `json:"others"`
}

package migrate

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/verdict-pdp/verdict/internal/store"
)

// Report says what a migration did: every change, each naming the record it
// made in the migrated document (a JSON path) and the 5.1 record it came
// from; the suggested group override of each role override; the users
// created without an invitation; and, once replayed, the decisions that
// differ between 5.1 and Verdict.
type Report struct {
	Org string `json:"org"`
	// Counts of the migrated document.
	Summary Summary `json:"summary"`
	// Changes, in document order.
	Changes []Change `json:"changes"`
	// Suggestions: one per 5.1 role override.
	Suggestions []Suggestion `json:"suggestions"`
	// NotInvited lists the users created by the migration that must be
	// invited (Keycloak email not verified; not service accounts or disabled).
	NotInvited []string `json:"not_invited"`
	// Replay compares decisions before and after (nil until replayed).
	Replay *Replay `json:"replay,omitempty"`
}

// Summary counts what the migrated document holds.
type Summary struct {
	Users           int `json:"users"`
	Roles           int `json:"roles"`
	Groups          int `json:"groups"`
	LegacyGrants    int `json:"legacy_grants"`
	Shares          int `json:"shares"`
	DefaultedFlows  int `json:"defaulted_ui_flows"`
	RoleOverrides   int `json:"deprecated_role_overrides"`
	GroupOverrides  int `json:"group_overrides_created"`
	UsersWithAccess int `json:"users_with_access"`
}

// Change kinds (stable: tools may switch on them).
const (
	ChangeUserCreated        = "user.created"
	ChangeRoleCreated        = "role.created"
	ChangeGroupCreated       = "group.created"
	ChangeLegacyGrant        = "legacy_grant.created"
	ChangeGroupShare         = "share.group_created"
	ChangeUserShare          = "share.user_created"
	ChangeFlowDefaultRole    = "ui_flow.default_role"
	ChangeBuildRoleAdded     = "build.role_added"
	ChangeActivePolicy       = "active_policy.set"
	ChangeEnvironmentCreated = "environment.created"
	ChangeUsernameOverride   = "override.username_kept"
	ChangeRoleOverrideKept   = "override.role_deprecated"
	ChangeGroupOverride      = "override.group_created"
	ChangeDesignerCarried    = "designer.carried"
	ChangeFlowPermsCarried   = "flow_permissions.carried"
	ChangeFiltersCarried     = "business_filters.carried"
	ChangeDirectUserAsShares = "legacy_grant.user_role_as_shares"
)

// Change is one change the migration made.
type Change struct {
	Kind string `json:"kind"`
	// Path of the record in the migrated org document.
	Path string `json:"path"`
	// From is the path of the 5.1 record it came from, in the export.
	From    string `json:"from,omitempty"`
	Message string `json:"message"`
}

// Suggestion is the group override suggested for a 5.1 role override: the
// group whose members match the role's holders best (Jaccard index), with
// the match named. An exact match (same members, at least one) is applied
// as a group override with the same priority and policy; the role override
// stays, deprecated.
type Suggestion struct {
	Project     string   `json:"project"`
	Environment string   `json:"environment"`
	Role        string   `json:"role"`
	Priority    int      `json:"priority"`
	Policy      string   `json:"policy"`
	Path        string   `json:"path"` // the deprecated role override in the migrated document
	Holders     []string `json:"holders"`
	Group       string   `json:"group,omitempty"` // "" when no group shares a member with the holders
	Matched     []string `json:"matched,omitempty"`
	Missing     []string `json:"missing,omitempty"` // holders not in the group
	Extra       []string `json:"extra,omitempty"`   // members not holding the role
	Exact       bool     `json:"exact"`
	Applied     bool     `json:"applied"`
	Match       string   `json:"match"` // the match in words
}

// WriteText writes the report for people: the summary, every change, the
// suggestions and the replay.
func (r *Report) WriteText(w io.Writer) {
	s := r.Summary
	fmt.Fprintf(w, "5.1 migration of org %s: %d users (%d had access), %d roles, %d groups, %d legacy grants, %d shares, %d UI flows given the User role, %d deprecated role overrides, %d group overrides created\n",
		r.Org, s.Users, s.UsersWithAccess, s.Roles, s.Groups, s.LegacyGrants, s.Shares, s.DefaultedFlows, s.RoleOverrides, s.GroupOverrides)
	fmt.Fprintf(w, "\nchanges (%d):\n", len(r.Changes))
	for _, c := range r.Changes {
		fmt.Fprintf(w, "  %-26s %s: %s\n", c.Kind, c.Path, c.Message)
	}
	fmt.Fprintf(w, "\nrole overrides (%d): deprecated, never used by Verdict\n", len(r.Suggestions))
	for _, sg := range r.Suggestions {
		state := "suggested"
		if sg.Applied {
			state = "applied"
		}
		fmt.Fprintf(w, "  %s/%s role %s (priority %d, %s): %s [%s]\n", sg.Project, sg.Environment, sg.Role, sg.Priority, sg.Policy, sg.Match, state)
	}
	if len(r.NotInvited) > 0 {
		fmt.Fprintf(w, "\nusers to invite (%d): %s\n", len(r.NotInvited), strings.Join(r.NotInvited, ", "))
	}
	if r.Replay != nil {
		r.Replay.WriteText(w)
	}
}

// StoreOptions is what an import of the migrated document records with it,
// in its own transaction: the audit action org.migrated with the report's
// summary, and the users to invite (store.Keys.Uninvited), for the
// post-upgrade checklist.
func (r *Report) StoreOptions(k store.Keys, now time.Time) store.PutOptions {
	un := map[string]string{}
	for _, id := range r.NotInvited {
		un[id] = store.MustJSON(store.UninvitedUser{Migration: "5.1", Time: now.UTC().Format(time.RFC3339)})
	}
	audit := map[string]any{"migration": "5.1", "summary": r.Summary, "changes": len(r.Changes)}
	if r.Replay != nil {
		audit["replay"] = map[string]any{"users": r.Replay.Users, "questions": r.Replay.Questions, "agreed": r.Replay.Agreed,
			"explained": len(r.Replay.Explained), "unexplained": len(r.Replay.Unexplained)}
	}
	return store.PutOptions{Action: "org.migrated", Audit: audit, Apart: map[string]map[string]string{k.Uninvited(): un}}
}

// Package domain holds the rules of the admin API (docs/admin-api.md): what
// each write of an org's users, roles, groups, shares, active policies,
// projects, builds, flow permissions, business filters and designer access
// may do, checked against the org as it stands (the active build's role
// catalog, the roles, users and groups that exist, orgdoc's validation),
// the cascades that keep no fact dangling (deleting a role from every
// share, grant and flow permission; a group rename moving its shares and
// overrides; an ownership transfer swapping the one project owner), the
// If-Match checks against each record's ETag, and the pages of the admin
// lists. It knows no HTTP: package admin turns requests into its calls and
// its errors (*verr.Error) into answers.
//
// Data flows one way: admin (HTTP) -> domain (rules) -> store (keys,
// transactions) -> Redis. The store owns the data and its layout; this
// package holds none: every write is one store.Write transaction, whose
// reads are watched, so the rules are checked against the state the write
// commits to, and the write lands with its audit and change-feed entries or
// not at all. A concurrent write of the same org makes the transaction run
// again against the new state.
//
// An Admin is safe for concurrent use: it holds only the store, and each
// call keeps its state on its own stack.
package domain

import "github.com/verdict-pdp/verdict/internal/store"

// Admin applies the admin rules to the orgs of one store.
type Admin struct{ st *store.Store }

// New returns the admin domain over st.
func New(st *store.Store) *Admin { return &Admin{st: st} }

// ProjectRecord is a project as the admin API shows it: id, workspace, flow
// permissions and the environments it has settings in (no builds).
type ProjectRecord = store.ProjectRecord

// GroupRecord is a group as the admin API shows it (members are listed
// separately, paginated).
type GroupRecord = store.GroupRecord

package facts

import (
	"context"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/verdict-pdp/verdict/internal/decision"
	"github.com/verdict-pdp/verdict/internal/verr"
)

// Bounds of what a request may name, checked before anything is read or
// written: an org id is at most MaxOrgBytes (the org id rule allows 63), any
// other id or name at most MaxIDBytes. Nothing longer can exist in the store,
// so refusing it early costs a caller nothing and keeps oversized strings out
// of Redis commands, caches and logs.
const (
	MaxOrgBytes = 63
	MaxIDBytes  = 256
)

// Scope names what one decision may read.
type Scope struct {
	Org         string
	Subject     string          // user id; "" for anonymous
	Project     string          // "" when the request names no project
	Environment string          // "" when the request names none
	Filter      string          // business filter id, "" when none
	Token       *decision.Token // verified claims of the subject's own token, if any
}

// Validate refuses a scope that names something longer than the bounds, with
// the request field at fault.
func (s Scope) Validate() error {
	if len(s.Org) > MaxOrgBytes {
		return verr.New(verr.InvalidInput, "context.org", "longer than %d bytes: no such org can exist", MaxOrgBytes)
	}
	for _, f := range [...]struct{ field, v string }{
		{"subject.id", s.Subject}, {"resource.properties.project", s.Project},
		{"context.environment", s.Environment}, {"resource.id", s.Filter},
	} {
		if len(f.v) > MaxIDBytes {
			return verr.New(verr.InvalidInput, f.field, "longer than %d bytes", MaxIDBytes)
		}
	}
	return nil
}

// key is the scope without its token: what a cache entry is kept under.
func (s Scope) key() Scope { s.Token = nil; return s }

// Facts is what a Source answers for a Scope.
type Facts struct {
	// Value is bound at data.verdict_data.orgs: {org: {...}} in the indexed
	// shape of docs/data-model.md; an empty object for an unknown org.
	// Immutable and possibly shared: never write into it.
	Value ast.Value
	// Known: the org exists.
	Known bool
	// Active: the subject is an active user of the org (last_seen is kept
	// for such users only).
	Active bool
	// Revision is the org revision the facts were read at (0 when the
	// source has none, as for documents in memory).
	Revision int64
	// Change is the id of the org's last change when the facts were read:
	// with Revision, what identifies the org's state (a write after a data
	// loss may repeat a revision number, never a change id).
	Change string
	// Read is when the facts were read from the store (the start of the
	// read: they are at least that recent). An answer computed from them
	// may be trusted as long as they are, and no longer (the decision
	// cache keeps it by this time, not by its own).
	Read time.Time
	// Stale, when not zero, says the facts were answered from the cache
	// while the store could not be reached, and how long ago they were last
	// known to be current (bounded by the cache's StaleMax).
	Stale time.Duration
	// Hit: answered from the cache (a scope asked about again).
	Hit bool
	// Served: Value holds, beside the facts, what the subject is served in
	// the scope's project and environment (Attach; policies/served).
	Served bool
	// Version is the cache version of the org the facts belong to (Cache):
	// an answer computed from them may be cached under it. 0: not cached.
	Version uint64
}

// Source answers a Scope with its facts. Implementations fail closed: an
// error means the decision must be denied.
type Source interface {
	Facts(ctx context.Context, s Scope) (Facts, error)
}

package store

import (
	"context"
	"strings"

	"github.com/redis/go-redis/v9"
	"github.com/verdict-pdp/verdict/internal/orgdoc"
)

// Keys kept apart from the org document: records the org document has no
// place for, about its records. Like last_seen they stay out of the `keys`
// index, so a whole-org import (which replaces what the index lists) keeps
// them, and DeleteOrg removes them. Their fields name records by content
// (a user id, a designer assignment's subject, role and scope), never by
// position, since an import renumbers positions.

// Justifications is the hash of the recorded justifications of designer
// role assignments: JustificationKey -> Justification (JSON). Reviews read
// it; decisions never do.
func (k Keys) Justifications() string { return k.p + "justifications" }

// Uninvited is the hash of the end users a migration created without an
// invitation: user id -> UninvitedUser (JSON). Recording the user's
// invitation removes its field.
func (k Keys) Uninvited() string { return k.p + "uninvited" }

// apartKeys are the keys outside the index that belong to the org.
func (k Keys) apartKeys() []string {
	return []string{k.LastSeen(), k.Justifications(), k.Uninvited()}
}

// Justification is why a designer role assignment exists, as recorded.
type Justification struct {
	Text string `json:"justification"`
	// Actor who recorded it and when (RFC 3339).
	Actor string `json:"actor"`
	Time  string `json:"time"`
	// Assignment is the id the assignment had when it was recorded.
	Assignment int64 `json:"assignment"`
}

// UninvitedUser says which migration created a user without an invitation.
type UninvitedUser struct {
	Migration string `json:"migration"` // "5.1"
	Time      string `json:"time"`
}

// JustificationKey names a designer role assignment by content:
// "<subject key>|<role>|<scope>", the scope as "org", "workspace:<id>" or
// "project:<id>". Duplicate assignments are refused, so it is unique.
func JustificationKey(s orgdoc.Subject, role string, sc orgdoc.Scope) string {
	scope := "org"
	switch {
	case sc.Workspace != "":
		scope = "workspace:" + sc.Workspace
	case sc.Project != "":
		scope = "project:" + sc.Project
	}
	return SubjectKey(s) + "|" + role + "|" + scope
}

// HSetApart queues setting a field of a hash kept apart from the index
// (Justifications, Uninvited): unlike HSet, the key does not join the index.
func (t *Tx) HSetApart(key, field, value string) {
	t.ops = append(t.ops, func(p redis.Pipeliner) { p.HSet(t.ctx, key, field, value) })
}

// ReadApart reads a hash kept apart (Justifications, Uninvited) of an org:
// field -> raw JSON ({} when none).
func (s *Store) ReadApart(ctx context.Context, key string) (map[string]string, error) {
	h, err := s.rdb.HGetAll(ctx, key).Result()
	if err != nil {
		return nil, unavailable(err)
	}
	return h, nil
}

// FieldsWithPrefix lists the fields of h that start with prefix.
func FieldsWithPrefix(h map[string]string, prefix string) []string {
	var out []string
	for f := range h {
		if strings.HasPrefix(f, prefix) {
			out = append(out, f)
		}
	}
	return out
}

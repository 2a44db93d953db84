package store

import "github.com/verdict-pdp/verdict/internal/orgdoc"

// Names the decision facts path (facts.go, feed.go, lastseen.go) still uses
// from before the key layout was exported. They go when that path moves out
// of the store (issue 12, item 5); new code uses the exported names.

type (
	keys          = Keys
	groupRecord   = GroupRecord
	projectRecord = ProjectRecord
	seqRole       = SeqRole
	seqAssignment = SeqAssignment
)

const (
	fieldActivePolicy = FieldActivePolicy
	fieldRoleOverride = FieldRoleOverride
	prefixUserShare   = PrefixUserShare
	prefixGroupShare  = PrefixGroupShare
	prefixUsernameOvr = PrefixUsernameOverride
	prefixGroupOvr    = PrefixGroupOverride
)

func (k Keys) users() string    { return k.Users() }
func (k Keys) rev() string      { return k.Rev() }
func (k Keys) audit() string    { return k.Audit() }
func (k Keys) changes() string  { return k.Changes() }
func (k Keys) lastSeen() string { return k.LastSeen() }

func (k Keys) builds(project string) string { return k.Builds(project) }

func envFromHash(h map[string]string) *orgdoc.Environment { return EnvFromHash(h) }
func parseSubjectKey(sk string) orgdoc.Subject            { return ParseSubjectKey(sk) }

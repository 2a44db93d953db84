// Package orgfix holds small organizations that tests of several packages
// share (the store, the admin rules), so that one fixture means one thing.
// Every call decodes a fresh org: callers may change what they get.
package orgfix

import (
	"testing"

	"github.com/verdict-pdp/verdict/internal/orgdoc"
)

// dupOverridesJSON: org "dup", user u1 in groups A and B, and project p's
// prod active policy listing A twice (priorities 30 → b2, 10 → b1) and B
// once (20 → b1), in that order.
const dupOverridesJSON = `{"org":"dup","environments":["prod"],"workspaces":[{"id":"w"}],
	"users":[{"id":"u1","username":"one","status":"active"}],
	"roles":[{"name":"R"}],
	"groups":[{"name":"A","members":["u1"]},{"name":"B","members":["u1"]}],
	"projects":[{"id":"p","workspace":"w","builds":[
		{"id":"b1","branch":"main","created":"2026-01-01T00:00:00Z","roles":["R"],"ui_flows":[],"processes":[]},
		{"id":"b2","branch":"main","created":"2026-02-01T00:00:00Z","roles":["R"],"ui_flows":[],"processes":[]}],
	 "environments":{"prod":{"active_policy":{"default":{"build":"b1"},"overrides":[
		{"type":"group","group":"A","priority":30,"policy":{"build":"b2"}},
		{"type":"group","group":"B","priority":20,"policy":{"build":"b1"}},
		{"type":"group","group":"A","priority":10,"policy":{"build":"b1"}}]},"shares":[]}}}]}`

// DupOverrides is an org whose active policy has several overrides of one
// group (see dupOverridesJSON): the lowest priority number must win.
func DupOverrides(t testing.TB) *orgdoc.Org {
	t.Helper()
	o, err := orgdoc.DecodeOrg([]byte(dupOverridesJSON))
	if err != nil {
		t.Fatal(err)
	}
	return o
}

package test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/verdict-pdp/verdict/internal/cmd/serve"
	"github.com/verdict-pdp/verdict/internal/orgdoc"
	"github.com/verdict-pdp/verdict/internal/testutil/redistest"
)

// send posts raw bytes with a content type ("" for none) and returns the
// status and the decoded error, if any.
func send(t *testing.T, method, url, contentType string, body []byte) (int, map[string]any, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := httpc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out struct {
		Error map[string]any `json:"error"`
	}
	_ = json.Unmarshal(raw, &out)
	return resp.StatusCode, out.Error, raw
}

// TestFrontDoorRulesOnEveryEndpoint: every endpoint that takes a body
// applies the same rules, over real HTTP: JSON only (415), one JSON value,
// no duplicate member and valid UTF-8 (400 naming the field), no control
// character in an id or a name (400 naming it), 413 over the size limit;
// and a refused write changes nothing.
func TestFrontDoorRulesOnEveryEndpoint(t *testing.T) {
	base, _ := demoPDP(t)
	const (
		action = `"action": {"name": "access"}, "resource": {"type": "solution", "id": "mortgage"}, "context": {"org": "demo", "environment": "prod"}`
	)
	// Each body holds %s where one member goes: the id under test.
	endpoints := []struct {
		name, path, body, member, field string
		nulStatus                       int // 400 unless a batch item (its own deny)
	}{
		{"evaluation", "/access/v1/evaluation", `{"subject": {"type": "user", %s}, ` + action + `}`, "id", "subject.id", 400},
		{"evaluations", "/access/v1/evaluations", `{"subject": {"type": "user", %s}, ` + action + `, "evaluations": [{}]}`, "id", "subject.id", 200},
		{"subject search", "/access/v1/search/subject", `{"subject": {"type": "user", %s}, ` + action + `}`, "id", "subject.id", 400},
		{"resource search", "/access/v1/search/resource", `{"subject": {"type": "user", %s}, "action": {"name": "launch"}, "resource": {"type": "ui_flow", "properties": {"project": "mortgage"}}, "context": {"environment": "prod"}}`, "id", "subject.id", 400},
		{"action search", "/access/v1/search/action", `{"subject": {"type": "user", %s}, "resource": {"type": "project", "id": "mortgage"}}`, "id", "subject.id", 400},
		{"data API", "/v1/data/verdict/search/actions", `{"input": {"subject": {"type": "user", %s}, "resource": {"type": "project", "id": "mortgage"}}}`, "id", "input.subject.id", 400},
		{"filter", "/v1/filters/applications_by_branch", `{"org": "demo", %s}`, "user", "user", 400},
		{"admin write", "/admin/v1/orgs/demo/roles", `{"description": "x", %s}`, "name", "name", 400},
	}
	for _, e := range endpoints {
		t.Run(e.name, func(t *testing.T) {
			url := base + e.path
			with := func(member string) []byte { return []byte(fmt.Sprintf(e.body, member)) }
			valid := with(fmt.Sprintf(`%q: "u-tom"`, e.member))
			cases := []struct {
				name, ct string
				body     []byte
				status   int
				field    string // checked when the answer is an error
				msg      string
			}{
				{"text/plain", "text/plain", valid, 415, "Content-Type", "application/json"},
				{"form", "application/x-www-form-urlencoded", valid, 415, "Content-Type", "application/json"},
				{"no content type", "", valid, 415, "Content-Type", "application/json"},
				{"trailing value", "application/json", append(valid, ` {"a": 1}`...), 400, "", "trailing data"},
				{"trailing garbage", "application/json", append(valid, ` garbage`...), 400, "", "trailing data"},
				{"duplicate member", "application/json", with(fmt.Sprintf(`%q: "u-tom", %q: "u-ada"`, e.member, e.member)), 400, e.field, "duplicate member"},
				{"invalid UTF-8", "application/json", with(fmt.Sprintf("%q: \"u-\xff\"", e.member)), 400, e.field, "UTF-8"},
				{"NUL in an id", "application/json", with(fmt.Sprintf(`%q: "u\u0000x"`, e.member)), e.nulStatus, e.field, "control character"},
				{"newline in an id", "application/json", with(fmt.Sprintf(`%q: "u\nx"`, e.member)), e.nulStatus, e.field, "control character"},
				{"over the size limit", "application/json", with(fmt.Sprintf(`%q: "%s"`, e.member, strings.Repeat("a", 1<<20))), 413, "", "larger than"},
			}
			for _, c := range cases {
				code, errBody, raw := send(t, http.MethodPost, url, c.ct, c.body)
				if code != c.status {
					t.Errorf("%s: %d, want %d: %.300s", c.name, code, c.status, raw)
					continue
				}
				if code == 200 { // a batch: the item is denied, naming the field
					var out struct{ Evaluations []answer }
					_ = json.Unmarshal(raw, &out)
					if len(out.Evaluations) != 1 || out.Evaluations[0].Decision || !strings.Contains(fmt.Sprint(out.Evaluations[0].Context["error"]), "evaluations[0]."+c.field) {
						t.Errorf("%s: %s", c.name, raw)
					}
					continue
				}
				if errBody["field"] != nil && errBody["field"] != c.field || errBody["field"] == nil && c.field != "" ||
					!strings.Contains(fmt.Sprint(errBody["message"]), c.msg) {
					t.Errorf("%s: error %v, want field %q and a message with %q", c.name, errBody, c.field, c.msg)
				}
			}
			// The valid body still goes through (writes are 201 once).
			if code, _, raw := send(t, http.MethodPost, url, "application/json; charset=utf-8", valid); code >= 300 {
				t.Errorf("valid body: %d %.300s", code, raw)
			}
		})
	}
	// Nothing refused above was stored: the only role added is the valid one.
	var roles struct {
		Items []map[string]any `json:"items"`
	}
	resp, err := httpc.Get(base + "/admin/v1/orgs/demo/roles?limit=500")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	_ = json.NewDecoder(resp.Body).Decode(&roles)
	for _, r := range roles.Items {
		if name, _ := r["name"].(string); strings.ContainsAny(name, "\x00\n\xff") || strings.HasPrefix(name, "aaaa") {
			t.Errorf("a refused role was stored: %q", name)
		}
	}
	// Admin deletes carry their body under the same rules.
	if code, errBody, _ := send(t, http.MethodDelete, base+"/admin/v1/orgs/demo/roles/u-tom", "text/plain", []byte(`{"justification": "x"}`)); code != 415 {
		t.Errorf("admin delete with text/plain: %d %v", code, errBody)
	}
	// The path's ids follow the id rule too.
	if code, errBody, _ := send(t, http.MethodGet, base+"/admin/v1/orgs/demo/users/u%0Ax", "", nil); code != 400 || errBody["field"] != "user" {
		t.Errorf("a newline in a path id: %d %v", code, errBody)
	}
	if code, errBody, _ := send(t, http.MethodGet, base+"/admin/v1/orgs/Demo/users", "", nil); code != 400 || errBody["field"] != "org" {
		t.Errorf("a malformed org id: %d %v", code, errBody)
	}
}

// TestDuplicateMemberIsNotDecided: the example, a decision request
// naming two subject ids, is refused instead of being decided for the last.
func TestDuplicateMemberIsNotDecided(t *testing.T) {
	base, _ := demoPDP(t)
	body := `{"subject": {"type": "user", "id": "u-bob", "id": "u-ada"}, "action": {"name": "access"},
		"resource": {"type": "solution", "id": "mortgage"}, "context": {"environment": "prod"}}`
	code, errBody, raw := send(t, http.MethodPost, base+"/access/v1/evaluation", "application/json", []byte(body))
	if code != 400 || errBody["field"] != "subject.id" {
		t.Errorf("%d %s", code, raw)
	}
}

// TestAnonymousFlowRunner: a FlowRunner caller without a user asks with no
// subject (or subject type anonymous, no id): it is NonAuthenticatedUser,
// granted or denied by the flow permissions, and denied everything else.
func TestAnonymousFlowRunner(t *testing.T) {
	rs := redistest.Start(t)
	demo := loadCorpus(t, "../data/demo.json").Orgs[0]
	fp := demo.Projects[0].FlowPermissions
	fp.Flows["status_page"] = orgdoc.FlowEntries{Roles: map[string]string{orgdoc.RoleNonAuthenticatedUser: orgdoc.FlowGrant}}
	importCorpus(t, rs.URL(), &orgdoc.Corpus{Orgs: []orgdoc.Org{demo}})
	pdp := startPDP(t, serve.Config{RedisURL: rs.URL(), Auth: "none", DefaultOrg: "demo"})
	url := "http://" + pdp.Addr + "/access/v1/evaluation"
	flow := func(id string) map[string]any {
		return map[string]any{"type": "flow", "id": id, "properties": map[string]any{"project": "mortgage"}}
	}
	cases := []struct {
		name     string
		body     map[string]any
		status   int
		decision bool
		reason   string
	}{
		{"no subject, a flow granted to NonAuthenticatedUser", map[string]any{"action": map[string]any{"name": "run"}, "resource": flow("status_page"), "context": map[string]any{"environment": "prod"}}, 200, true, ""},
		{"null subject", map[string]any{"subject": nil, "action": map[string]any{"name": "run"}, "resource": flow("status_page"), "context": map[string]any{"environment": "prod"}}, 200, true, ""},
		{"anonymous subject without id", map[string]any{"subject": map[string]any{"type": "anonymous"}, "action": map[string]any{"name": "run"}, "resource": flow("status_page"), "context": map[string]any{"environment": "prod"}}, 200, true, ""},
		{"anonymous subject, app-wide deny", map[string]any{"subject": map[string]any{"type": "anonymous", "id": "anonymous"}, "action": map[string]any{"name": "run"}, "resource": flow("credit_check"), "context": map[string]any{"environment": "prod"}}, 200, false, ""},
		{"no subject, not a flow", map[string]any{"action": map[string]any{"name": "access"}, "resource": map[string]any{"type": "solution", "id": "mortgage"}, "context": map[string]any{"environment": "prod"}}, 200, false, "subject_not_active"},
		{"a user subject still needs its id", map[string]any{"subject": map[string]any{"type": "user"}, "action": map[string]any{"name": "run"}, "resource": flow("status_page"), "context": map[string]any{"environment": "prod"}}, 400, false, ""},
	}
	for _, c := range cases {
		var d answer
		code := post(t, url, "", c.body, &d)
		if code != c.status || code == 200 && (d.Decision != c.decision || c.reason != "" && d.Context["reason"] != c.reason) {
			t.Errorf("%s: %d %+v, want %d decision %v %s", c.name, code, d, c.status, c.decision, c.reason)
		}
	}
}

// ticketExtension decides type ticket: services of team ops, or of tier
// gold, may act; its answer echoes members outside type, id and properties,
// which only the whole request carries.
const ticketExtension = `package verdict.ext.ticket

default allowed := false

allowed if input.subject.properties.team == "ops"

allowed if input.subject.tier == "gold"

decision := {"decision": allowed, "context": {"seen": {
	"tier": object.get(input.subject, "tier", null),
	"via": object.get(input.action, "via", null),
	"labels": object.get(input.resource, "labels", null),
	"channel": object.get(input.context, "channel", null),
	"extra": object.get(input, "extra", null),
}}}

subjects := {"service": [
	{"id": "svc-b", "properties": {"team": "ops", "region": "eu"}},
	{"id": "svc-a", "properties": {"team": "ops"}},
	{"id": "svc-c", "properties": {"team": "sales"}},
	{"id": "svc-d"},
]}

resources := [{"id": "t1"}, {"id": "t2"}]

actions := ["read"]
`

// TestAuthZENInterop: search results are {"type", "id", "properties"?} in
// that order, byte for byte; subject search over an extension type lists
// the extension's candidates with their properties; the whole request
// reaches extension policies.
func TestAuthZENInterop(t *testing.T) {
	rs := redistest.Start(t)
	importCorpus(t, rs.URL(), loadCorpus(t, "../data/demo.json"))
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "ticket.rego"), []byte(ticketExtension), 0o644); err != nil {
		t.Fatal(err)
	}
	pdp := startPDP(t, serve.Config{RedisURL: rs.URL(), Auth: "none", DefaultOrg: "demo", PolicyDirs: []string{dir}})
	base := "http://" + pdp.Addr
	raw := func(path string, body string) string {
		t.Helper()
		code, _, b := send(t, http.MethodPost, base+path, "application/json", []byte(body))
		if code != 200 {
			t.Fatalf("%s: %d %s", path, code, b)
		}
		return strings.TrimSpace(string(b))
	}
	cases := []struct{ name, path, body, want string }{
		{"subject search, extension candidates with properties", "/access/v1/search/subject",
			`{"subject": {"type": "service"}, "action": {"name": "read"}, "resource": {"type": "ticket", "id": "t1"}}`,
			`{"results":[{"type":"service","id":"svc-a","properties":{"team":"ops"}},{"type":"service","id":"svc-b","properties":{"region":"eu","team":"ops"}}],"page":{"next_token":""}}`},
		{"subject search, paged", "/access/v1/search/subject",
			`{"subject": {"type": "service"}, "action": {"name": "read"}, "resource": {"type": "ticket", "id": "t1"}, "page": {"limit": 1, "token": "1"}}`,
			`{"results":[{"type":"service","id":"svc-b","properties":{"region":"eu","team":"ops"}}],"page":{"next_token":""}}`},
		{"subject search, a type the extension lists none of", "/access/v1/search/subject",
			`{"subject": {"type": "device"}, "action": {"name": "read"}, "resource": {"type": "ticket", "id": "t1"}}`,
			`{"results":[],"page":{"next_token":""}}`},
		{"subject search, built-in type", "/access/v1/search/subject",
			`{"subject": {"type": "user"}, "action": {"name": "access"}, "resource": {"type": "solution", "id": "mortgage"}, "context": {"environment": "prod"}, "page": {"limit": 1}}`,
			`{"results":[{"type":"user","id":"u-ada"}],"page":{"next_token":":1"}}`},
		{"resource search", "/access/v1/search/resource",
			`{"subject": {"type": "service", "id": "svc-x", "tier": "gold"}, "action": {"name": "read"}, "resource": {"type": "ticket"}}`,
			`{"results":[{"type":"ticket","id":"t1"},{"type":"ticket","id":"t2"}],"page":{"next_token":""}}`},
		{"action search", "/access/v1/search/action",
			`{"subject": {"type": "service", "id": "svc-x", "tier": "gold"}, "resource": {"type": "ticket", "id": "t1"}}`,
			`{"results":[{"name":"read"}],"page":{"next_token":""}}`},
		{"the whole request reaches the extension", "/access/v1/evaluation",
			`{"subject": {"type": "service", "id": "svc-x", "tier": "gold"}, "action": {"name": "read", "via": "api"},
			  "resource": {"type": "ticket", "id": "t1", "labels": ["urgent"]}, "context": {"channel": "web"}, "extra": 7}`,
			`{"decision":true,"context":{"seen":{"channel":"web","extra":7,"labels":["urgent"],"tier":"gold","via":"api"}}}`},
		{"a built-in type sees the known members only", "/access/v1/evaluation",
			`{"subject": {"type": "user", "id": "u-tom", "tier": "gold"}, "action": {"name": "access"}, "resource": {"type": "solution", "id": "mortgage"}, "context": {"environment": "prod"}}`,
			`{"decision":true,"context":{"build":"m1","rule":"default"}}`},
	}
	for _, c := range cases {
		if got := raw(c.path, c.body); got != c.want {
			t.Errorf("%s:\n got  %s\n want %s", c.name, got, c.want)
		}
	}
	// The same request twice, differing only in a member an extension
	// reads: the decision cache never answers one with the other.
	for _, tier := range []string{"gold", "bronze", "gold"} {
		got := raw("/access/v1/evaluation", `{"subject": {"type": "service", "id": "svc-x", "tier": "`+tier+`"}, "action": {"name": "read"}, "resource": {"type": "ticket", "id": "t1"}}`)
		if want := tier == "gold"; strings.HasPrefix(got, `{"decision":true`) != want {
			t.Errorf("tier %s: %s", tier, got)
		}
	}
}

// TestReadyIsBounded: /ready answers within its time limit whatever Redis
// does, and names the check: "slow" for a Redis that accepts connections
// and never answers, "failed" for one that refuses them.
func TestReadyIsBounded(t *testing.T) {
	hole, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { hole.Close() })
	go func() {
		for {
			c, err := hole.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { c.Close() }) // held open, never answered
		}
	}()
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := closed.Addr().String()
	closed.Close()
	for _, c := range []struct {
		name, addr, status string
		limit              time.Duration
	}{
		{"silent redis", hole.Addr().String(), "slow", 300 * time.Millisecond},
		// go-redis retries a refused dial a few times: a limit far above
		// that lets the failure itself be reported.
		{"refused connections", refused, "failed", 20 * time.Second},
	} {
		t.Run(c.name, func(t *testing.T) {
			pdp := startPDP(t, serve.Config{RedisURL: "redis://" + c.addr, Auth: "none", ReadyTimeout: c.limit})
			resp, err := httpc.Get("http://" + pdp.Addr + "/ready")
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var r struct {
				Status, Reason string
				Checks         map[string]struct{ Status, Message string }
			}
			_ = json.NewDecoder(resp.Body).Decode(&r)
			if resp.StatusCode != 503 || r.Status != "unavailable" || r.Checks["redis"].Status != c.status || !strings.HasPrefix(r.Reason, "redis: "+c.status) {
				t.Errorf("/ready: %d %+v, want 503 with redis %s", resp.StatusCode, r, c.status)
			}
		})
	}
}

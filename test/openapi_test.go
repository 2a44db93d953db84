package test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/verdict-pdp/verdict/data"
	"github.com/verdict-pdp/verdict/internal/cmd/serve"
	"github.com/verdict-pdp/verdict/internal/openapi"
	"github.com/verdict-pdp/verdict/internal/orgdoc"
	"github.com/verdict-pdp/verdict/internal/testutil/apispec"
	"github.com/verdict-pdp/verdict/internal/testutil/oidctest"
	"github.com/verdict-pdp/verdict/internal/testutil/pdptest"
	"github.com/verdict-pdp/verdict/internal/testutil/redistest"
)

// replay sends requests to one server through the OpenAPI-checking client
// and remembers which operations answered which statuses.
type replay struct {
	t      *testing.T
	base   string
	v      *apispec.Validator
	c      *http.Client
	status map[string]map[int]bool // operation id -> statuses seen
}

func newReplay(t *testing.T, addr string, v *apispec.Validator) *replay {
	v.Watch(t, addr)
	return &replay{t: t, base: "http://" + addr, v: v, c: &http.Client{Transport: v.Transport(nil)}, status: map[string]map[int]bool{}}
}

// do sends a request and requires the status want. body is nil (none), a
// string or []byte (sent as is) or a value (sent as JSON); header holds
// name, value pairs (a Content-Type there replaces application/json).
func (r *replay) do(method, path, token string, body any, want int, header ...string) []byte {
	r.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			r.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, r.base+path, rd)
	if err != nil {
		r.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := r.c.Do(req)
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		r.t.Fatal(err)
	}
	if resp.StatusCode != want {
		r.t.Errorf("%s %s: %d, want %d: %s", method, path, resp.StatusCode, want, raw)
	}
	if id := r.v.OperationID(method, req.URL.Path); id != "" {
		if r.status[id] == nil {
			r.status[id] = map[int]bool{}
		}
		r.status[id][resp.StatusCode] = true
	}
	return raw
}

// covered requires every operation of the document to have answered a
// success (2xx, or 304) in the replay, and each error status in errs to
// have been seen on some operation.
func (r *replay) covered(errs ...int) {
	r.t.Helper()
	seen := map[int]bool{}
	var missing []string
	for _, id := range r.v.OperationIDs() {
		ok := false
		for s := range r.status[id] {
			seen[s] = true
			ok = ok || s < 300 || s == http.StatusNotModified
		}
		if !ok {
			missing = append(missing, id)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		r.t.Errorf("operations without a successful exchange in the replay: %v", missing)
	}
	for _, s := range errs {
		if !seen[s] {
			r.t.Errorf("no operation answered %d in the replay", s)
		}
	}
}

// TestOpenAPIConformance replays a representative request per operation of
// the OpenAPI description, and the error statuses of the front door,
// against a central PDP (real Redis, sign-in on with a real OIDC issuer)
// and an edge; every exchange must fit the description (apispec), and
// every operation must have been exercised.
func TestOpenAPIConformance(t *testing.T) {
	rs := redistest.Start(t)
	issuer := oidctest.Start(t)
	importCorpus(t, rs.URL(), loadCorpus(t, "../data/demo.json"))
	pdp := startPDP(t, serve.Config{RedisURL: rs.URL(), OIDCIssuer: issuer.URL(), OIDCAudience: oidctest.DefaultAudience,
		BootstrapAdmin: "root", DefaultOrg: "demo"})
	admin := issuer.Token(t, map[string]any{"sub": "u-ada", "org": "demo"})
	other := issuer.Token(t, map[string]any{"sub": "u-ada", "org": "globex"})
	root := issuer.Token(t, map[string]any{"sub": "root", "org": "acme"})
	r := newReplay(t, pdp.Addr, apispec.Central())

	decisions(r, admin, other)

	// OpenAPI: the served document is the embedded one.
	if got := r.do("GET", "/openapi.json", "", nil, 200); !bytes.Equal(got, openapi.Central()) {
		t.Errorf("/openapi.json is not openapi.Central()")
	}

	// Bundles: ETag, 304, HEAD, the org rule, tenancy, unknown environment.
	resp, err := http.NewRequest("GET", r.base+"/bundles/demo/prod.tar.gz", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Header.Set("Authorization", "Bearer "+admin)
	got, err := r.c.Do(resp)
	if err != nil {
		t.Fatal(err)
	}
	got.Body.Close()
	etag := got.Header.Get("ETag")
	r.do("GET", "/bundles/demo/prod.tar.gz", admin, nil, 200)
	r.do("GET", "/bundles/demo/prod.tar.gz", admin, nil, 304, "If-None-Match", etag)
	r.do("HEAD", "/bundles/demo/all.tar.gz", admin, nil, 200)
	r.do("GET", "/bundles/Demo!/prod.tar.gz", admin, nil, 400)
	r.do("GET", "/bundles/globex/prod.tar.gz", admin, nil, 403)
	r.do("GET", "/bundles/demo/nowhere.tar.gz", admin, nil, 404)

	adminAPI(r, admin, other)
	upgrade(r, admin, root)

	r.do("DELETE", "/admin/v1/orgs/demo", admin, nil, 204)
	r.covered(400, 401, 403, 404, 409, 412, 413, 415, 422)

	t.Run("edge", func(t *testing.T) {
		c, err := orgdoc.DecodeCorpus(data.Demo())
		if err != nil {
			t.Fatal(err)
		}
		keys := pdptest.NewKeys(t)
		base := pdptest.StartEdge(t, pdptest.WriteBundles(t, c.Orgs, keys.Signer, t.TempDir()), keys.PubPath)
		e := newReplay(t, strings.TrimPrefix(base, "http://"), apispec.Edge())
		decisions(e, "", "")
		if got := e.do("GET", "/openapi.json", "", nil, 200); !bytes.Equal(got, openapi.Edge()) {
			t.Errorf("the edge's /openapi.json is not openapi.Edge()")
		}
		e.do("POST", "/v1/data/verdict/orgs/demo/main/decision", "", map[string]any{"input": evalBody("u-tom")}, 200)
		e.do("POST", "/v1/data/verdict_data/orgs/demo", "", map[string]any{"input": map[string]any{}}, 403)
		e.do("GET", "/admin/v1/orgs/demo/users", "", nil, 404)
		e.covered(400, 403, 404, 413, 415)
	})
}

func evalBody(user string) map[string]any {
	return map[string]any{
		"subject": map[string]any{"type": "user", "id": user}, "action": map[string]any{"name": "access"},
		"resource": map[string]any{"type": "solution", "id": "mortgage"}, "context": map[string]any{"org": "demo", "environment": "prod"},
	}
}

// decisions replays the decision APIs, shared by the central PDP and the
// edge; with sign-in off (token "") the 401 and 403 cases are left out.
func decisions(r *replay, token, other string) {
	r.do("GET", "/health", "", nil, 200)
	r.do("GET", "/ready", "", nil, 200)
	r.do("GET", "/metrics", "", nil, 200)
	r.do("GET", "/.well-known/authzen-configuration", "", nil, 200)
	r.do("GET", "/no/such/route", token, nil, 404)

	r.do("POST", "/access/v1/evaluation", token, evalBody("u-tom"), 200)
	explain := evalBody("u-maria")
	explain["context"].(map[string]any)["explain"] = true
	r.do("POST", "/access/v1/evaluation", token, explain, 200)
	r.do("POST", "/access/v1/evaluation", token, map[string]any{
		"subject": map[string]any{"type": "anonymous"}, "action": map[string]any{"name": "run"},
		"resource": map[string]any{"type": "flow", "id": "credit_check", "properties": map[string]any{"project": "mortgage"}},
		"context":  map[string]any{"environment": "prod"}}, 200)
	r.do("POST", "/access/v1/evaluation", token, `{"action": {"name": "access"}, "resource": {"type": "solution"}}`, 400)
	r.do("POST", "/access/v1/evaluation", token, evalBody("u-tom"), 415, "Content-Type", "text/plain")
	r.do("POST", "/access/v1/evaluation", token, `{"subject": {"type": "user", "id": "`+strings.Repeat("x", 2<<20)+`"}}`, 413)
	if token != "" {
		r.do("POST", "/access/v1/evaluation", "", evalBody("u-tom"), 401)
		r.do("POST", "/access/v1/evaluation", other, evalBody("u-tom"), 403)
	}

	r.do("POST", "/access/v1/evaluations", token, map[string]any{
		"subject": map[string]any{"type": "user", "id": "u-tom"}, "context": map[string]any{"environment": "prod"},
		"options": map[string]any{"evaluations_semantic": "execute_all"},
		"evaluations": []any{
			map[string]any{"action": map[string]any{"name": "access"}, "resource": map[string]any{"type": "solution", "id": "mortgage"}},
			map[string]any{"action": map[string]any{"name": 7}, "resource": map[string]any{"type": "solution", "id": "mortgage"}},
		}}, 200)
	r.do("POST", "/access/v1/evaluations", token, evalBody("u-tom"), 200) // no items: one evaluation
	r.do("POST", "/access/v1/evaluations", token, map[string]any{"options": map[string]any{"evaluations_semantic": "most"},
		"evaluations": []any{evalBody("u-tom")}}, 400)

	r.do("POST", "/access/v1/search/subject", token, map[string]any{
		"subject": map[string]any{"type": "user"}, "action": map[string]any{"name": "launch"},
		"resource": map[string]any{"type": "ui_flow", "id": "review", "properties": map[string]any{"project": "mortgage"}},
		"context":  map[string]any{"environment": "prod"}, "page": map[string]any{"limit": 1}}, 200)
	r.do("POST", "/access/v1/search/resource", token, map[string]any{
		"subject": map[string]any{"type": "user", "id": "u-tom"}, "action": map[string]any{"name": "launch"},
		"resource": map[string]any{"type": "ui_flow", "properties": map[string]any{"project": "mortgage"}},
		"context":  map[string]any{"environment": "prod"}}, 200)
	r.do("POST", "/access/v1/search/action", token, map[string]any{
		"subject": map[string]any{"type": "user", "id": "u-lee"}, "resource": map[string]any{"type": "project", "id": "mortgage"}}, 200)
	r.do("POST", "/access/v1/search/action", token, map[string]any{"subject": map[string]any{"type": "user", "id": "u-lee"},
		"resource": map[string]any{"type": "project", "id": "mortgage"}, "page": map[string]any{"limit": 0}}, 400)

	r.do("POST", "/v1/data/verdict/main/decision", token, map[string]any{"input": evalBody("u-tom")}, 200)
	r.do("POST", "/v1/data/verdict/main/decision", token, map[string]any{"input": map[string]any{"action": 1}}, 200)
	r.do("POST", "/v1/data/verdict/search/actions", token, map[string]any{"input": map[string]any{
		"subject": map[string]any{"type": "user", "id": "u-lee"}, "resource": map[string]any{"type": "project", "id": "mortgage"},
		"context": map[string]any{"org": "demo"}}}, 200)
	r.do("POST", "/v1/data/verdict/nothing/here", token, map[string]any{"input": map[string]any{}}, 404)
	r.do("POST", "/v1/data/verdict/main/decision", token, `{"input": {}} {}`, 400)

	r.do("POST", "/v1/filters/applications_by_branch", token, map[string]any{"org": "demo", "user": "u-tom"}, 200)
	r.do("POST", "/v1/filters/applications_by_branch", token, map[string]any{"org": "demo", "user": "u-sam"}, 200)
	r.do("POST", "/v1/filters/no_such_filter", token, map[string]any{"user": "u-tom"}, 404)
	r.do("POST", "/v1/filters/applications_by_branch", token, map[string]any{"user": "u-tom", "usr": "x"}, 400)

	r.do("POST", "/v1/manifest", token, map[string]any{"user": "u-tom", "project": "mortgage", "environment": "prod", "explain": true}, 200)
	r.do("POST", "/v1/manifest", token, map[string]any{"user": "u-tom", "environment": "prod"}, 400)
}

// adminAPI replays every admin operation but the upgrade ones on the demo
// org, with the errors of the admin front door.
func adminAPI(r *replay, tok, other string) {
	const org = "/admin/v1/orgs/demo"
	const prod = org + "/projects/mortgage/environments/prod"
	var doc map[string]any
	if err := json.Unmarshal(r.do("GET", org, tok, nil, 200), &doc); err != nil {
		r.t.Fatal(err)
	}
	doc["legacy_grants"] = []any{map[string]any{"user": "u-tom", "role": "Teller"}}
	r.do("PUT", org, tok, doc, 200, "If-Match", "*")
	r.do("PUT", org, tok, doc, 412, "If-Match", `"rev-1"`)
	r.do("GET", org+"/audit?limit=2", tok, nil, 200)
	r.do("GET", org+"/users", "", nil, 401)
	r.do("GET", org+"/users", other, nil, 403)
	r.do("GET", "/admin/v1/orgs/Demo!/users", tok, nil, 400)
	r.do("GET", org+"/users?limit=0", tok, nil, 400)

	// Users.
	r.do("GET", org+"/users?limit=2", tok, nil, 200)
	kim := map[string]any{"id": "u-kim", "username": "kim", "email": "kim@bank.example", "status": "active",
		"attributes": map[string]any{"branch": []any{"harbour"}}, "justification": "new teller"}
	r.do("POST", org+"/users", tok, kim, 201)
	r.do("POST", org+"/users", tok, kim, 409)
	r.do("POST", org+"/users", tok, kim, 415, "Content-Type", "text/plain")
	r.do("POST", org+"/users", tok, map[string]any{"id": "u-x", "username": "x", "nick": "x"}, 400)
	r.do("POST", org+"/users", tok, map[string]any{"id": "u-x", "username": strings.Repeat("x", 2<<20)}, 413)
	r.do("POST", org+"/users", tok, map[string]any{"id": "u-x", "username": "x", "status": "asleep"}, 422)
	r.do("GET", org+"/users/u-kim", tok, nil, 200)
	r.do("GET", org+"/users/u-nobody", tok, nil, 404)
	r.do("PATCH", org+"/users/u-kim", tok, map[string]any{"email": "kim@harbour.example", "designer_user": true}, 200)
	r.do("POST", org+"/users/u-kim/disable", tok, nil, 200)
	r.do("POST", org+"/users/u-kim/activate", tok, map[string]any{"justification": "back"}, 200)
	r.do("POST", org+"/users/u-kim/invitation", tok, nil, 204)
	r.do("DELETE", org+"/users/u-tom/legacy-grants/Teller", tok, nil, 204)

	// Roles.
	r.do("GET", org+"/roles", tok, nil, 200)
	r.do("POST", org+"/roles", tok, map[string]any{"name": "Auditor", "description": "reads"}, 201)
	r.do("GET", org+"/roles/Auditor", tok, nil, 200)
	r.do("PATCH", org+"/roles/Auditor", tok, map[string]any{"description": "reads everything"}, 200)
	r.do("DELETE", org+"/roles/Auditor", tok, nil, 204)

	// Groups.
	r.do("GET", org+"/groups", tok, nil, 200)
	r.do("POST", org+"/groups", tok, map[string]any{"name": "Harbour", "attributes": map[string]any{"branch": []any{"harbour"}}}, 201)
	r.do("GET", org+"/groups/Harbour", tok, nil, 200)
	r.do("PATCH", org+"/groups/Harbour", tok, map[string]any{"name": "Harbour tellers"}, 200)
	r.do("POST", org+"/groups/Harbour%20tellers/members", tok, map[string]any{"users": []any{"u-kim", "u-tom"}}, 204)
	r.do("GET", org+"/groups/Harbour%20tellers/members?limit=1", tok, nil, 200)
	r.do("DELETE", org+"/groups/Harbour%20tellers/members/u-tom", tok, nil, 204)

	// Projects and builds.
	r.do("GET", org+"/projects", tok, nil, 200)
	r.do("POST", org+"/projects", tok, map[string]any{"id": "loans", "workspace": "banking"}, 201)
	r.do("GET", org+"/projects/loans", tok, nil, 200)
	r.do("GET", org+"/projects/mortgage/builds", tok, nil, 200)
	r.do("GET", org+"/projects/mortgage/builds/m1", tok, nil, 200)
	r.do("POST", org+"/projects/loans/builds", tok, map[string]any{"id": "l1", "branch": "main", "created": "2026-01-01T00:00:00Z",
		"roles": []any{"Customer"}, "processes": []any{},
		"ui_flows": []any{map[string]any{"id": "apply", "roles": []any{"Customer"},
			"components": map[string]any{"submit": map[string]any{"disabled_for": []any{"Customer"}}}}}}, 201)
	r.do("GET", org+"/projects/loans/flow-permissions", tok, nil, 200)
	r.do("PUT", org+"/projects/loans/flow-permissions", tok, map[string]any{
		"defaults": map[string]any{"roles": map[string]any{"AuthenticatedUser": "grant"}},
		"flows":    map[string]any{"score": map[string]any{"users": map[string]any{"u-kim": "deny"}}}}, 200)
	r.do("DELETE", org+"/projects/loans", tok, nil, 204)

	// Shares.
	r.do("GET", prod+"/shares", tok, nil, 200)
	r.do("GET", prod+"/shares/users/u-maria", tok, nil, 200)
	r.do("PUT", prod+"/shares/users/u-kim", tok, map[string]any{"roles": []any{"Teller"}}, 201)
	r.do("PUT", prod+"/shares/users/u-kim", tok, map[string]any{"roles": []any{"Auditor"}}, 422)
	r.do("DELETE", prod+"/shares/users/u-kim", tok, nil, 204)
	r.do("GET", prod+"/shares/groups/Tellers%20north", tok, nil, 200)
	r.do("PUT", prod+"/shares/groups/Harbour%20tellers", tok, map[string]any{"roles": []any{"Teller"}}, 201)
	r.do("DELETE", prod+"/shares/groups/Harbour%20tellers", tok, nil, 204)
	r.do("DELETE", org+"/groups/Harbour%20tellers", tok, nil, 204)

	// Active policy.
	r.do("GET", prod+"/active-policy", tok, nil, 200)
	r.do("PUT", prod+"/active-policy/default", tok, map[string]any{"build": "m1"}, 200)
	r.do("PUT", prod+"/active-policy/overrides/username/kim", tok, map[string]any{"policy": map[string]any{"build": "m2"}}, 200)
	r.do("DELETE", prod+"/active-policy/overrides/username/kim", tok, nil, 200)
	r.do("PUT", prod+"/active-policy/overrides/role/Teller", tok, map[string]any{"policy": map[string]any{"build": "m2"}}, 422)

	// Designer access.
	r.do("GET", org+"/designer-groups", tok, nil, 200)
	r.do("POST", org+"/designer-groups", tok, map[string]any{"name": "reviewers", "members": []any{"u-lee"}}, 201)
	r.do("GET", org+"/designer-groups/reviewers", tok, nil, 200)
	r.do("POST", org+"/designer-groups/reviewers/members", tok, map[string]any{"users": []any{"u-kim"}}, 204)
	r.do("GET", org+"/designer-groups/reviewers/members", tok, nil, 200)
	r.do("DELETE", org+"/designer-groups/reviewers/members/u-kim", tok, nil, 204)
	r.do("DELETE", org+"/designer-groups/reviewers", tok, nil, 204)
	r.do("GET", org+"/designer-roles", tok, nil, 200)
	id := assignment(r, r.do("POST", org+"/designer-roles", tok, map[string]any{
		"subject": map[string]any{"user": "u-kim"}, "role": "workspace_user", "scope": map[string]any{"workspace": "banking"},
		"justification": "teller tools"}, 201))
	r.do("GET", org+"/designer-roles/"+id, tok, nil, 200)
	r.do("GET", org+"/designer-roles/"+id+"/justification", tok, nil, 200)
	r.do("PUT", org+"/designer-roles/"+id+"/justification", tok, map[string]any{"justification": "reviewed"}, 200)
	r.do("DELETE", org+"/designer-roles/"+id, tok, nil, 204)
	const proj = org + "/projects/mortgage"
	r.do("GET", proj+"/designer-roles", tok, nil, 200)
	id = assignment(r, r.do("POST", proj+"/designer-roles", tok, map[string]any{
		"subject": map[string]any{"user": "u-kim"}, "role": "project_viewer"}, 201))
	r.do("GET", proj+"/designer-roles/"+id, tok, nil, 200)
	r.do("PUT", proj+"/designer-roles/"+id+"/justification", tok, nil, 200, "X-Justification", "audits")
	r.do("GET", proj+"/designer-roles/"+id+"/justification", tok, nil, 200)
	r.do("DELETE", proj+"/designer-roles/"+id, tok, nil, 204)
	r.do("POST", proj+"/owner", tok, map[string]any{"user": "u-ada"}, 200)

	// Business filters.
	r.do("GET", org+"/business-filters", tok, nil, 200)
	r.do("GET", org+"/business-filters/applications_by_branch", tok, nil, 200)
	r.do("PUT", org+"/business-filters/applications_by_region", tok, map[string]any{"field": "applications.region", "attribute": "region"}, 201)
	r.do("DELETE", org+"/business-filters/applications_by_region", tok, nil, 204)

	// Checklist, review, promotion; then the environment loses its policy.
	r.do("GET", org+"/checklist?environment=prod", tok, nil, 200)
	r.do("GET", org+"/checklist?format=csv", tok, nil, 200)
	r.do("GET", org+"/review?project=mortgage&environment=prod&inactive_days=30", tok, nil, 200)
	r.do("GET", org+"/review", tok, nil, 200, "Accept", "text/csv")
	r.do("POST", proj+"/promotion", tok, map[string]any{"from": "uat", "to": "prod"}, 200)
	r.do("DELETE", prod+"/active-policy", tok, nil, 204)
	r.do("DELETE", org+"/users/u-kim", tok, nil, 204)
}

// upgrade replays the 5.1 migration: a dry run and an apply by the
// bootstrap admin of an org that has no data yet.
func upgrade(r *replay, tok, root string) {
	export, err := os.ReadFile("../internal/migrate/testdata/acme-5.1.json")
	if err != nil {
		r.t.Fatal(err)
	}
	r.do("POST", "/admin/v1/orgs/acme/migrations/51", root, export, 200)
	r.do("POST", "/admin/v1/orgs/acme/migrations/51?apply=true", root, export, 200)
	r.do("POST", "/admin/v1/orgs/demo/migrations/51", tok, export, 400) // the export is acme
}

// assignment is the id of a designer role assignment answered.
func assignment(r *replay, raw []byte) string {
	var a struct{ ID int64 }
	if err := json.Unmarshal(raw, &a); err != nil || a.ID == 0 {
		r.t.Fatalf("no assignment id in %s (%v)", raw, err)
	}
	return fmt.Sprint(a.ID)
}

package admin_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/open-policy-agent/opa/ast"
	"github.com/verdict-pdp/verdict/internal/admin"
	"github.com/verdict-pdp/verdict/internal/facts"
	"github.com/verdict-pdp/verdict/internal/orgdoc"
	"github.com/verdict-pdp/verdict/internal/store"
	"github.com/verdict-pdp/verdict/internal/testutil/redistest"
	"github.com/verdict-pdp/verdict/internal/verr"
)

// The tests run the admin API over a real httptest.Server and a real Redis
// (redistest.Shared, flushed at the start of each test).

const (
	demoFile = "../../data/demo.json"
	acmeFile = "../../../shared/conformance/acme.json"
)

// testAuthz allows everything as "tester" (or refuses everything) and
// records the checks it was asked.
type testAuthz struct {
	mu     sync.Mutex
	refuse bool
	checks []admin.Check
}

func (a *testAuthz) Authorize(r *http.Request, org string, check admin.Check) (store.Actor, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.checks = append(a.checks, check)
	if a.refuse {
		return store.Actor{}, verr.New(verr.Forbidden, "", "refused by the test authorizer")
	}
	return store.Actor{Subject: "tester"}, nil
}

func (a *testAuthz) last() admin.Check {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.checks[len(a.checks)-1]
}

type harness struct {
	t     *testing.T
	srv   *httptest.Server
	st    *store.Store
	authz *testAuthz
}

func setup(t *testing.T) *harness {
	t.Helper()
	rdb := redistest.Shared(t).Client(t)
	if err := rdb.FlushAll(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
	st, err := store.New(rdb, store.Config{})
	if err != nil {
		t.Fatal(err)
	}
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	az := &testAuthz{}
	admin.Register(r, st, az)
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return &harness{t: t, srv: srv, st: st, authz: az}
}

// resp is an answer of the API.
type resp struct {
	t      *testing.T
	status int
	header http.Header
	body   []byte
}

// do calls the API; body may be nil, a string/[]byte (sent as is) or a value
// (sent as JSON); hdr is name, value pairs.
func (h *harness) do(method, path string, body any, hdr ...string) *resp {
	h.t.Helper()
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
			h.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, h.srv.URL+path, rd)
	if err != nil {
		h.t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return &resp{t: h.t, status: res.StatusCode, header: res.Header, body: b}
}

// want fails the test unless the status is code; it returns r.
func (r *resp) want(code int) *resp {
	r.t.Helper()
	if r.status != code {
		r.t.Fatalf("status %d, want %d: %s", r.status, code, r.body)
	}
	return r
}

func (r *resp) decode(v any) {
	r.t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		r.t.Fatalf("decode %s: %v", r.body, err)
	}
}

// apiError is the error body of the API.
type apiError struct {
	Code    string   `json:"code"`
	Field   string   `json:"field"`
	Message string   `json:"message"`
	Allowed []string `json:"allowed"`
}

// wantError checks status, code and field of an error answer.
func (r *resp) wantError(status int, code verr.Code, field string) apiError {
	r.t.Helper()
	r.want(status)
	var e struct{ Error apiError }
	r.decode(&e)
	if e.Error.Code != string(code) || e.Error.Field != field {
		r.t.Fatalf("error %+v, want code %s field %q", e.Error, code, field)
	}
	return e.Error
}

// orgDoc returns orgs[0] of a corpus file as JSON, or skips when absent.
func orgDoc(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		t.Skipf("%s is absent (a user's clone without ../shared): skipped", path)
	}
	if err != nil {
		t.Fatal(err)
	}
	var c struct{ Orgs []json.RawMessage }
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	return c.Orgs[0]
}

// editDoc applies edit to a document's generic form.
func editDoc(t *testing.T, doc []byte, edit func(o map[string]any)) []byte {
	t.Helper()
	var o map[string]any
	if err := json.Unmarshal(doc, &o); err != nil {
		t.Fatal(err)
	}
	edit(o)
	b, _ := json.Marshal(o)
	return b
}

// putOrg imports a document and returns its org id.
func (h *harness) putOrg(doc []byte) string {
	h.t.Helper()
	var o struct{ Org string }
	_ = json.Unmarshal(doc, &o)
	h.do("PUT", "/admin/v1/orgs/"+o.Org, doc).want(http.StatusOK)
	return o.Org
}

// exported GETs the whole org and decodes it with orgdoc, which also
// validates it: every admin write must leave an org that imports again.
func (h *harness) exported(org string) (*orgdoc.Org, string) {
	h.t.Helper()
	r := h.do("GET", "/admin/v1/orgs/"+org, nil).want(http.StatusOK)
	o, err := orgdoc.DecodeOrg(r.body)
	if err != nil {
		h.t.Fatalf("the exported org does not validate: %v", err)
	}
	return o, r.header.Get("ETag")
}

// canonical renders a document for comparison (orgdoc types, map keys sorted).
func canonical(t *testing.T, doc []byte) string {
	t.Helper()
	o, err := orgdoc.DecodeOrg(doc)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.MarshalIndent(o, "", " ")
	return string(b)
}

// corpora are the documents every flow runs on: demo always, acme when present.
var corpora = []struct{ name, file string }{{"demo", demoFile}, {"acme", acmeFile}}

func (h *harness) revision(org string) int64 {
	h.t.Helper()
	rev, err := h.st.Revision(context.Background(), org)
	if err != nil {
		h.t.Fatal(err)
	}
	return rev
}

func pathEscape(s string) string { return url.PathEscape(s) }

// subjectFacts reads what a decision about user would read (the facts path
// of the central PDP), as JSON: org -> {users, user_groups, designer_roles...}.
func (h *harness) subjectFacts(org, user string) map[string]any {
	h.t.Helper()
	r, err := facts.NewReader(h.st.Client(), facts.ReaderConfig{Prefix: h.st.OrgPrefix})
	if err != nil {
		h.t.Fatal(err)
	}
	f, err := r.Facts(h.t.Context(), facts.Scope{Org: org, Subject: user})
	if err != nil {
		h.t.Fatalf("facts of %s: %v", user, err)
	}
	v, err := ast.JSON(f.Value)
	if err != nil {
		h.t.Fatal(err)
	}
	m, _ := v.(map[string]any)[org].(map[string]any)
	return m
}

// keysOf lists the keys of m[path...] (an object), sorted.
func keysOf(m map[string]any, path ...string) []string {
	var cur any = m
	for _, p := range path {
		o, _ := cur.(map[string]any)
		cur = o[p]
	}
	o, _ := cur.(map[string]any)
	out := make([]string, 0, len(o))
	for k := range o {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

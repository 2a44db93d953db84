package apispec

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/verdict-pdp/verdict/internal/cmd/serve"
)

// exchange sends a request to a real server and returns it with its
// answer, bodies read.
func exchange(t *testing.T, method, url, contentType, body string) (*http.Request, []byte, *http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return req, []byte(body), resp, b
}

// TestCheck: real exchanges with a central PDP pass; the same requests
// with answers that break the description, and answers the server should
// not give, fail.
func TestCheck(t *testing.T) {
	cfg := serve.Config{Dev: true, Auth: "none", Addr: "127.0.0.1:0"}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	srv, err := serve.Start(context.Background(), &cfg, slog.New(slog.DiscardHandler), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	base := "http://" + srv.Addr
	v := Central()
	eval := `{"subject": {"type": "user", "id": "u-tom"}, "action": {"name": "access"},
		"resource": {"type": "solution", "id": "mortgage"}, "context": {"environment": "prod"}}`
	pass := []struct{ name, method, path, ct, body string }{
		{"evaluation", "POST", "/access/v1/evaluation", "application/json", eval},
		{"data path with slashes", "POST", "/v1/data/verdict/main/decision", "application/json", `{"input": ` + eval + `}`},
		{"unknown member refused", "POST", "/v1/filters/applications_by_branch", "application/json", `{"user": "u-tom", "usr": 1}`},
		{"not JSON refused", "POST", "/access/v1/evaluation", "text/plain", eval},
		{"no route", "GET", "/nope", "", ""},
		{"admin read", "GET", "/admin/v1/orgs/demo/users?limit=2", "", ""},
		{"console not described", "GET", "/console/", "", ""},
	}
	for _, c := range pass {
		req, rb, resp, b := exchange(t, c.method, base+c.path, c.ct, c.body)
		if err := v.Check(req, rb, resp, b); err != nil {
			t.Errorf("%s: %v", c.name, err)
		}
	}
	fail := []struct {
		name, method, path, ct, body string
		status                       int
		answer                       string
	}{
		{"decision not a boolean", "POST", "/access/v1/evaluation", "application/json", eval, 200, `{"decision": "yes"}`},
		{"unknown member in a decision", "POST", "/access/v1/evaluation", "application/json", eval, 200, `{"decision": true, "why": 1}`},
		{"undeclared status", "POST", "/access/v1/evaluation", "application/json", eval, 418, `{"error": {"code": "internal", "message": "x"}}`},
		{"error shape", "POST", "/access/v1/evaluation", "application/json", eval, 400, `{"error": "bad"}`},
		{"a refused request accepted", "POST", "/v1/filters/applications_by_branch", "application/json", `{"user": "u-tom", "usr": 1}`, 200,
			`{"field": "a", "operator": "in", "values": [], "sql": {"dialect": "postgresql", "where": "WHERE 0 = 1"}}`},
		{"no route answered 200", "GET", "/nope", "", "", 200, `{}`},
		{"a body on 204", "DELETE", "/admin/v1/orgs/demo/users/u-x", "", "", 204, `{}`},
	}
	for _, c := range fail {
		req, err := http.NewRequest(c.method, base+c.path, strings.NewReader(c.body))
		if err != nil {
			t.Fatal(err)
		}
		if c.ct != "" {
			req.Header.Set("Content-Type", c.ct)
		}
		resp := &http.Response{StatusCode: c.status, Header: http.Header{"Content-Type": {"application/json; charset=utf-8"}},
			Body: io.NopCloser(bytes.NewReader([]byte(c.answer)))}
		if err := v.Check(req, []byte(c.body), resp, []byte(c.answer)); err == nil {
			t.Errorf("%s: passed", c.name)
		} else {
			t.Logf("%s: %v", c.name, err)
		}
	}
}

// Package apispec checks real HTTP exchanges with a Verdict server against
// its OpenAPI description (internal/openapi), for tests: the request, and
// the response to it, must be what the description says. It uses
// kin-openapi's openapi3filter (JSON Schema 2020-12 for the 3.1 document)
// with the operation found here, since kin-openapi's routers cannot match
// a path parameter holding slashes (OPA's data API).
//
// The rules of an exchange:
//   - the response must fit the operation: a declared status, content type,
//     body and headers (a response declared without content has no body);
//   - a request the description refuses must be refused (a 4xx): a server
//     that accepts what the description forbids has drifted from it;
//   - a request for no operation must be answered 404 (or 405) in the error
//     shape;
//   - the access console (/console) is not described, and not checked.
//
// A Validator is safe for concurrent use; its Transport may serve many
// goroutines. Failures are kept per server (host:port) until a test that
// Watches the server reports them.
package apispec

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"

	"github.com/verdict-pdp/verdict/internal/openapi"
)

// Validator checks exchanges against one OpenAPI document.
type Validator struct {
	doc    *openapi3.T
	routes []route

	mu      sync.Mutex
	watched map[string][]string // host:port -> failures since Watch
}

// route is one operation and the pattern of its path.
type route struct {
	re     *regexp.Regexp
	names  []string
	path   string
	item   *openapi3.PathItem
	method string
	op     *openapi3.Operation
}

// New reads an OpenAPI document (JSON or YAML).
func New(doc []byte) (*Validator, error) {
	t, err := openapi3.NewLoader().LoadFromData(doc)
	if err != nil {
		return nil, err
	}
	if err := t.Validate(context.Background()); err != nil {
		return nil, err
	}
	v := &Validator{doc: t, watched: map[string][]string{}}
	for _, path := range t.Paths.InMatchingOrder() {
		item := t.Paths.Value(path)
		re, names := pattern(path, item)
		for method, op := range item.Operations() {
			v.routes = append(v.routes, route{re: re, names: names, path: path, item: item, method: method, op: op})
		}
	}
	return v, nil
}

var param = regexp.MustCompile(`\{([A-Za-z_]+)\}`)

// pattern is the regular expression of a path template: a parameter is
// one segment, or the rest of the path when it is marked
// x-verdict-matches-slashes.
func pattern(path string, item *openapi3.PathItem) (*regexp.Regexp, []string) {
	slashes := map[string]bool{}
	for _, op := range item.Operations() {
		for _, p := range append(item.Parameters, op.Parameters...) {
			if p.Value != nil && p.Value.In == "path" && p.Value.Extensions["x-verdict-matches-slashes"] == true {
				slashes[p.Value.Name] = true
			}
		}
	}
	var names []string
	var b strings.Builder
	b.WriteString("^")
	last := 0
	for _, m := range param.FindAllStringSubmatchIndex(path, -1) {
		b.WriteString(regexp.QuoteMeta(path[last:m[0]]))
		name := path[m[2]:m[3]]
		names = append(names, name)
		if slashes[name] {
			b.WriteString("(.+)")
		} else {
			b.WriteString("([^/]+)")
		}
		last = m[1]
	}
	b.WriteString(regexp.QuoteMeta(path[last:]))
	b.WriteString("$")
	return regexp.MustCompile(b.String()), names
}

var (
	centralOnce = sync.OnceValue(func() *Validator { return mustNew(openapi.Central()) })
	edgeOnce    = sync.OnceValue(func() *Validator { return mustNew(openapi.Edge()) })
)

// Central is the validator of the central PDP's document (one per test
// binary).
func Central() *Validator { return centralOnce() }

// Edge is the validator of an edge's document.
func Edge() *Validator { return edgeOnce() }

func mustNew(doc []byte) *Validator {
	v, err := New(doc)
	if err != nil {
		panic(fmt.Sprintf("apispec: the OpenAPI document does not load: %v", err))
	}
	return v
}

// excluded reports whether path is left out of the description on purpose
// (internal/openapi's route test lists the same exclusion).
func excluded(path string) bool { return path == "/console" || strings.HasPrefix(path, "/console/") }

// Check validates one exchange: req with its body, resp with its body (the
// bodies as sent; req.Body and resp.Body are not read). It returns what is
// wrong, or nil.
func (v *Validator) Check(req *http.Request, reqBody []byte, resp *http.Response, respBody []byte) error {
	path := req.URL.Path
	if excluded(path) {
		return nil
	}
	r, params, pathMatched := v.find(req.Method, path)
	if r == nil {
		if resp.StatusCode == http.StatusNotFound || (pathMatched && resp.StatusCode == http.StatusMethodNotAllowed) {
			return v.checkError(resp, respBody)
		}
		return fmt.Errorf("%s %s: no operation of the description, and the server answered %d", req.Method, path, resp.StatusCode)
	}
	opts := &openapi3filter.Options{
		// Sign-in is the server's to check (and is off in most tests).
		AuthenticationFunc:    func(context.Context, *openapi3filter.AuthenticationInput) error { return nil },
		IncludeResponseStatus: true,
		SkipSettingDefaults:   true,
	}
	rq := req.Clone(context.Background())
	rq.Body = io.NopCloser(bytes.NewReader(reqBody))
	rq.ContentLength = int64(len(reqBody))
	in := &openapi3filter.RequestValidationInput{
		Request: rq, PathParams: params, Options: opts,
		Route: &routers.Route{Spec: v.doc, Path: r.path, PathItem: r.item, Method: r.method, Operation: r.op},
	}
	reqErr := openapi3filter.ValidateRequest(context.Background(), in)
	if reqErr != nil && resp.StatusCode < 400 {
		return fmt.Errorf("%s %s: the server answered %d to a request the description refuses: %v", req.Method, path, resp.StatusCode, reqErr)
	}
	declared := r.op.Responses.Status(resp.StatusCode)
	if declared == nil || declared.Value == nil {
		return fmt.Errorf("%s %s (%s): status %d is not declared; body %s", req.Method, path, r.op.OperationID, resp.StatusCode, clip(respBody))
	}
	if len(declared.Value.Content) == 0 && len(respBody) > 0 && req.Method != http.MethodHead {
		return fmt.Errorf("%s %s (%s): status %d is declared without a body, and has one: %s", req.Method, path, r.op.OperationID, resp.StatusCode, clip(respBody))
	}
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: resp.StatusCode, Header: resp.Header, Options: opts}
	out.SetBodyBytes(respBody)
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		return fmt.Errorf("%s %s (%s): the response does not fit the description: %v\nbody: %s", req.Method, path, r.op.OperationID, err, clip(respBody))
	}
	return nil
}

// checkError validates an answer for no operation: the error shape.
func (v *Validator) checkError(resp *http.Response, body []byte) error {
	s := v.doc.Components.Schemas["Error"]
	var val any
	if err := json.Unmarshal(body, &val); err != nil {
		return fmt.Errorf("status %d without an operation: not the error shape: %s", resp.StatusCode, clip(body))
	}
	if err := s.Value.VisitJSON(val, openapi3.EnableJSONSchema2020()); err != nil {
		return fmt.Errorf("status %d without an operation: not the error shape: %v", resp.StatusCode, err)
	}
	return nil
}

// OperationID is the id of the operation a request for method and path
// is for, "" when none.
func (v *Validator) OperationID(method, path string) string {
	if r, _, _ := v.find(method, path); r != nil {
		return r.op.OperationID
	}
	return ""
}

// OperationIDs are the ids of every operation of the document.
func (v *Validator) OperationIDs() []string {
	var out []string
	for _, r := range v.routes {
		out = append(out, r.op.OperationID)
	}
	return out
}

// find is the operation for method and path; pathMatched tells whether a
// path of the description matched (with another method).
func (v *Validator) find(method, path string) (r *route, params map[string]string, pathMatched bool) {
	for i := range v.routes {
		m := v.routes[i].re.FindStringSubmatch(path)
		if m == nil {
			continue
		}
		pathMatched = true
		if v.routes[i].method != method {
			continue
		}
		params = map[string]string{}
		for j, n := range v.routes[i].names {
			params[n] = m[j+1]
		}
		return &v.routes[i], params, true
	}
	return nil, nil, pathMatched
}

func clip(b []byte) string {
	if len(b) > 600 {
		return string(b[:600]) + "…"
	}
	return string(b)
}

// Watch checks every exchange through v's Transports with the server at
// host (host:port) until the test ends, then fails the test with each
// mismatch seen.
func (v *Validator) Watch(t testing.TB, host string) {
	t.Helper()
	v.mu.Lock()
	v.watched[host] = []string{}
	v.mu.Unlock()
	t.Cleanup(func() {
		v.mu.Lock()
		fails := v.watched[host]
		delete(v.watched, host)
		v.mu.Unlock()
		for _, f := range fails {
			t.Errorf("OpenAPI conformance (internal/openapi/openapi.yaml): %s", f)
		}
	})
}

// Transport returns a RoundTripper that sends through next
// (http.DefaultTransport when nil) and checks every exchange with a watched
// server, keeping the failures for Watch to report.
func (v *Validator) Transport(next http.RoundTripper) http.RoundTripper {
	if next == nil {
		next = http.DefaultTransport
	}
	return &transport{v: v, next: next}
}

type transport struct {
	v    *Validator
	next http.RoundTripper
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	t.v.mu.Lock()
	_, watched := t.v.watched[req.URL.Host]
	t.v.mu.Unlock()
	if !watched {
		return t.next.RoundTrip(req)
	}
	var reqBody []byte
	if req.Body != nil && req.Body != http.NoBody {
		b, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		reqBody = b
		// A RoundTripper must not change the caller's request: send a copy.
		req = req.Clone(req.Context())
		req.Body = io.NopCloser(bytes.NewReader(b))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
	}
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	respBody, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(respBody))
	if err != nil {
		return resp, nil // the caller reads what there was; a cut answer is not the description's to judge
	}
	if cerr := t.v.Check(req, reqBody, resp, respBody); cerr != nil {
		t.v.mu.Lock()
		if fails, ok := t.v.watched[req.URL.Host]; ok {
			t.v.watched[req.URL.Host] = append(fails, cerr.Error())
		}
		t.v.mu.Unlock()
	}
	return resp, nil
}

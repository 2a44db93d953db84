package frontdoor

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/verdict-pdp/verdict/internal/authn"
	"github.com/verdict-pdp/verdict/internal/verr"
)

func TestDecodeRefusesWithThePath(t *testing.T) {
	cases := []struct {
		name, body, field, msg string
	}{
		{"empty", ``, "", "empty body"},
		{"blank", " \n\t", "", "empty body"},
		{"not JSON", `not json`, "", "invalid JSON"},
		{"trailing value", `{"a":1} {"b":2}`, "", "trailing data"},
		{"trailing garbage", `{"a":1} garbage`, "", "trailing data"},
		{"duplicate top", `{"id":"u-bob","id":"u-alice"}`, "id", `duplicate member "id"`},
		{"duplicate nested", `{"subject":{"type":"user","id":"u-bob","id":"u-alice"}}`, "subject.id", "duplicate member"},
		{"duplicate in list", `{"evaluations":[{},{"resource":{"id":"a","id":"b"}}]}`, "evaluations[1].resource.id", "duplicate member"},
		{"invalid UTF-8 value", "{\"subject\":{\"id\":\"u-\xff\"}}", "subject.id", "invalid UTF-8"},
		{"invalid UTF-8 name", "{\"a\":{\"\xfe\":1}}", "a", "invalid UTF-8"},
		{"unterminated", `{"a":[1,2`, "a[2]", "unexpected end"},
		{"bad literal", `{"a":tru}`, "a", "invalid JSON"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Decode([]byte(c.body))
			e := verr.As(err)
			if e == nil || e.Code != verr.InvalidInput || e.Field != c.field || !strings.Contains(e.Message, c.msg) {
				t.Errorf("got %v, want invalid_input at %q containing %q", err, c.field, c.msg)
			}
		})
	}
}

func TestDecodeKeepsValues(t *testing.T) {
	v, err := Decode([]byte(`{"n": 12345678901234567890, "f": 1.5, "s": "é\u0041", "b": [true, false, null], "o": {}}`))
	if err != nil {
		t.Fatal(err)
	}
	got, _ := json.Marshal(v)
	if want := `{"b":[true,false,null],"f":1.5,"n":12345678901234567890,"o":{},"s":"éA"}`; string(got) != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

func TestReadBody(t *testing.T) {
	cases := []struct {
		name, ct, body string
		limit          int64
		code           verr.Code
	}{
		{"json", "application/json", `{}`, 0, ""},
		{"json utf-8", "application/json; charset=UTF-8", `{}`, 0, ""},
		{"no body, no type", "", ``, 0, ""},
		{"no body, any type", "text/plain", ``, 0, ""},
		{"text/plain", "text/plain", `{}`, 0, verr.UnsupportedMediaType},
		{"form", "application/x-www-form-urlencoded", `a=b`, 0, verr.UnsupportedMediaType},
		{"json latin-1", "application/json; charset=latin1", `{}`, 0, verr.UnsupportedMediaType},
		{"body without a type", "", `{}`, 0, verr.UnsupportedMediaType},
		{"at the limit", "application/json", `{"a":1}`, 7, ""},
		{"over the limit", "application/json", `{"a":12}`, 7, verr.TooLarge},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(c.body))
			if c.ct != "" {
				r.Header.Set("Content-Type", c.ct)
			}
			b, err := ReadBody(httptest.NewRecorder(), r, c.limit)
			if verr.CodeOf(err) != c.code {
				t.Fatalf("got %v, want code %q", err, c.code)
			}
			if err == nil && string(b) != c.body {
				t.Errorf("read %q, want %q", b, c.body)
			}
		})
	}
	// A chunked body (no Content-Length) over the limit is cut at the limit.
	r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(strings.Repeat(" ", 100)))
	r.ContentLength = -1
	r.Header.Set("Content-Type", "application/json")
	if _, err := ReadBody(httptest.NewRecorder(), r, 10); verr.CodeOf(err) != verr.TooLarge {
		t.Errorf("chunked over the limit: %v", err)
	}
}

func TestTenancy(t *testing.T) {
	cases := []struct {
		name   string
		id     *authn.Identity
		org    string
		status int
	}{
		{"sign-in off", nil, "acme", 200},
		{"own org", &authn.Identity{Subject: "s", Org: "acme"}, "acme", 200},
		{"other org", &authn.Identity{Subject: "s", Org: "globex"}, "acme", 403},
		{"no org claim", &authn.Identity{Subject: "s"}, "acme", 403},
		{"no org claim, no org", &authn.Identity{Subject: "s"}, "", 403},
	}
	for _, c := range cases {
		if got := verr.HTTPStatus(Tenancy(c.id, c.org, "context.org")); got != c.status {
			t.Errorf("%s: %d, want %d", c.name, got, c.status)
		}
	}
	for org, ok := range map[string]bool{"acme": true, "a-b_c9": true, "Acme": false, "": false, "../x": false, "a\x00": false, strings.Repeat("a", 64): false} {
		if err := CheckOrgID("org", org); (err == nil) != ok {
			t.Errorf("org id %q: %v", org, err)
		}
	}
}

func TestCheckText(t *testing.T) {
	type role struct {
		Name        string `json:"name"`
		Description string `json:"description"`
	}
	type body struct {
		ID      string            `json:"id"`
		Members []string          `json:"members"`
		Attrs   map[string]string `json:"attributes"`
		Role    *role             `json:"role"`
	}
	cases := []struct {
		name  string
		v     body
		field string
	}{
		{"clean", body{ID: "u-1", Members: []string{"a b"}, Role: &role{Name: "R", Description: "line\nbreak\ttab"}}, ""},
		{"NUL in id", body{ID: "u\x00"}, "id"},
		{"newline in a member", body{Members: []string{"ok", "a\nb"}}, "members[1]"},
		{"DEL in a map value", body{Attrs: map[string]string{"k": "v\x7f"}}, "attributes.k"},
		{"control in a map key", body{Attrs: map[string]string{"k\x01": "v"}}, "attributes"},
		{"C1 in a name", body{Role: &role{Name: "x\u0085"}}, "role.name"},
		{"NUL in prose", body{Role: &role{Name: "R", Description: "a\x00"}}, "role.description"},
	}
	for _, c := range cases {
		err := CheckText("", c.v)
		if c.field == "" {
			if err != nil {
				t.Errorf("%s: %v", c.name, err)
			}
			continue
		}
		if e := verr.As(err); e == nil || e.Code != verr.InvalidInput || e.Field != c.field {
			t.Errorf("%s: got %v, want invalid_input at %q", c.name, err, c.field)
		}
	}
}

func TestUnmarshal(t *testing.T) {
	type filter struct {
		Org  string `json:"org"`
		User string `json:"user"`
		N    int    `json:"n"`
	}
	cases := []struct {
		body, field string
	}{
		{`{"org":"acme","user":"u","n":3}`, ""},
		{`[]`, ""},
		{`{"User":"u"}`, "User"},
		{`{"user":3}`, "user"},
		{`{"n":1.5}`, "n"},
		{`{"user":"u","user":"v"}`, "user"},
		{`{"user":"u\u0000"}`, "user"},
		{`{"user":"u"} {}`, ""},
	}
	for i, c := range cases {
		var f filter
		err := Unmarshal([]byte(c.body), &f)
		if i == 0 {
			if err != nil || f.Org != "acme" || f.N != 3 {
				t.Errorf("%s: %v %+v", c.body, err, f)
			}
			continue
		}
		if e := verr.As(err); e == nil || e.Code != verr.InvalidInput || e.Field != c.field {
			t.Errorf("%s: got %v, want invalid_input at %q", c.body, err, c.field)
		}
	}
}

func TestWriteErrorShape(t *testing.T) {
	w := httptest.NewRecorder()
	WriteError(w, verr.New(verr.TooLarge, "", "big"))
	if w.Code != 413 || w.Body.String() != `{"error":{"code":"too_large","message":"big"}}` || !strings.HasPrefix(w.Header().Get("Content-Type"), "application/json") {
		t.Errorf("%d %s %v", w.Code, w.Body, w.Header())
	}
}

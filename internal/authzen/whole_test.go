package authzen

import (
	"context"
	"encoding/json"
	"slices"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/verdict-pdp/verdict/internal/verr"
	"github.com/verdict-pdp/verdict/policies"
)

// TestAnonymousSubjects: no subject, a null subject and an "anonymous"
// subject without id are NonAuthenticatedUser requests (no subject in the
// input, or type anonymous); a user subject still needs its id.
func TestAnonymousSubjects(t *testing.T) {
	const rest = `"action": {"name": "run"}, "resource": {"type": "flow", "id": "f", "properties": {"project": "p"}}`
	cases := []struct {
		body     string
		subject  string // the subject in the input, "" for none
		errField string
	}{
		{`{` + rest + `}`, "", ""},
		{`{"subject": null, ` + rest + `}`, "", ""},
		{`{"subject": {"type": "anonymous"}, ` + rest + `}`, `{"id": "", "type": "anonymous"}`, ""},
		{`{"subject": {"type": "anonymous", "id": "anonymous"}, ` + rest + `}`, `{"id": "anonymous", "type": "anonymous"}`, ""},
		{`{"subject": {"type": "anonymous", "id": 7}, ` + rest + `}`, "", "subject.id"},
		{`{"subject": {"type": "user"}, ` + rest + `}`, "", "subject.id"},
		{`{"subject": {}, ` + rest + `}`, "", "subject.type"},
	}
	for _, c := range cases {
		r, err := ParseRequest([]byte(c.body))
		if c.errField != "" {
			if e := verr.As(err); e == nil || e.Field != c.errField {
				t.Errorf("%s: got %v, want an error at %s", c.body, err, c.errField)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", c.body, err)
		}
		v, err := r.Value()
		if err != nil {
			t.Fatal(err)
		}
		sub := v.(ast.Object).Get(ast.StringTerm("subject"))
		switch {
		case c.subject == "" && sub != nil:
			t.Errorf("%s: input has subject %v", c.body, sub)
		case c.subject != "" && (sub == nil || sub.String() != c.subject):
			t.Errorf("%s: input subject %v, want %s", c.body, sub, c.subject)
		}
	}
}

// TestBuiltinInputIsTheKnownMembers: for a built-in type the input is built
// from the known members only, the same for the same request whatever else
// it carries; for an extension type it is the whole request.
func TestBuiltinInputIsTheKnownMembers(t *testing.T) {
	plain := `{"subject": {"type": "user", "id": "u", "properties": {"a": 1}}, "action": {"name": "launch"},
		"resource": {"type": "ui_flow", "id": "f", "properties": {"project": "p"}}, "context": {"org": "o"}}`
	extra := `{"subject": {"type": "user", "id": "u", "properties": {"a": 1}, "email": "u@x"}, "action": {"name": "launch", "why": "x"},
		"resource": {"type": "ui_flow", "id": "f", "properties": {"project": "p"}, "owner": "z"}, "context": {"org": "o"}, "more": true}`
	a, b := value(t, plain), value(t, extra)
	if a.Compare(b) != 0 {
		t.Errorf("built-in inputs differ:\n%v\n%v", a, b)
	}
	want := `{"action": {"name": "launch"}, "context": {"org": "o"}, "resource": {"id": "f", "properties": {"project": "p"}, "type": "ui_flow"}, "subject": {"id": "u", "properties": {"a": 1}, "type": "user"}}`
	if a.String() != want {
		t.Errorf("built-in input %v, want %s", a, want)
	}
	ext := `{"subject": {"type": "service", "id": "s", "tier": "gold"}, "action": {"name": "read", "via": "api"},
		"resource": {"type": "ticket", "id": "t", "labels": ["x"]}, "context": {"org": "o", "ip": "10.0.0.1"}, "more": true}`
	v := value(t, ext)
	want = `{"action": {"name": "read", "via": "api"}, "context": {"ip": "10.0.0.1", "org": "o"}, "more": true, "resource": {"id": "t", "labels": ["x"], "type": "ticket"}, "subject": {"id": "s", "tier": "gold", "type": "service"}}`
	if v.String() != want {
		t.Errorf("extension input %v, want %s", v, want)
	}
}

// TestCacheKeyCoversWhatPoliciesSee: two extension requests that differ
// only in an unknown member marshal differently (the decision cache keys on
// it); two built-in ones that differ only there marshal the same.
func TestCacheKeyCoversWhatPoliciesSee(t *testing.T) {
	key := func(body string) string {
		r, err := ParseRequest([]byte(body))
		if err != nil {
			t.Fatal(err)
		}
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	e1 := key(`{"subject": {"type": "user", "id": "u", "clearance": "low"}, "action": {"name": "read"}, "resource": {"type": "ticket", "id": "t"}}`)
	e2 := key(`{"subject": {"type": "user", "id": "u", "clearance": "high"}, "action": {"name": "read"}, "resource": {"type": "ticket", "id": "t"}}`)
	if e1 == e2 {
		t.Errorf("extension requests share a key: %s", e1)
	}
	b1 := key(`{"subject": {"type": "user", "id": "u", "clearance": "low"}, "action": {"name": "access"}, "resource": {"type": "solution", "id": "p"}}`)
	b2 := key(`{"subject": {"type": "user", "id": "u", "clearance": "high"}, "action": {"name": "access"}, "resource": {"type": "solution", "id": "p"}}`)
	if b1 != b2 {
		t.Errorf("built-in keys differ: %s / %s", b1, b2)
	}
}

// TestBatchItemsShareNoMap: requests built from one decoded value own their
// maps, so taking a token out of one never touches another.
func TestBatchItemsShareNoMap(t *testing.T) {
	v, err := Decode([]byte(`{"subject": {"type": "user", "id": "u", "properties": {"token": "x"}}, "action": {"name": "a"}, "resource": {"type": "t", "id": "i"}, "context": {"org": "o"}}`))
	if err != nil {
		t.Fatal(err)
	}
	r1, _ := FromValue(v, "")
	r2, _ := FromValue(v, "")
	delete(r1.Subject.Properties, "token")
	r1.Context["org"] = "changed"
	if r2.Subject.Properties["token"] != "x" || r2.Org() != "o" {
		t.Errorf("r2 changed with r1: %+v %+v", r2.Subject, r2.Context)
	}
}

// TestBuiltinTypesAreThePolicies: Builtin knows exactly the types of
// data.verdict.main.actions (and business_filter, the filters' type).
func TestBuiltinTypesAreThePolicies(t *testing.T) {
	mods, err := policies.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	opts := []func(*rego.Rego){rego.Query("object.keys(data.verdict.main.actions)")}
	for name, src := range mods {
		opts = append(opts, rego.Module(name, src))
	}
	rs, err := rego.New(opts...).Eval(context.Background())
	if err != nil || len(rs) != 1 {
		t.Fatalf("%v %v", rs, err)
	}
	var got []string
	for _, x := range rs[0].Expressions[0].Value.([]any) {
		got = append(got, x.(string))
	}
	got = append(got, "business_filter")
	var want []string
	for k := range builtinTypes {
		want = append(want, k)
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("policies: %v, authzen: %v", got, want)
	}
}

func value(t *testing.T, body string) ast.Value {
	t.Helper()
	r, err := ParseRequest([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	v, err := r.Value()
	if err != nil {
		t.Fatal(err)
	}
	return v
}

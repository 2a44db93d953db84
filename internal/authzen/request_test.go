package authzen

import (
	"testing"

	"github.com/verdict-pdp/verdict/internal/verr"
)

func TestParseRequestErrorsNameTheField(t *testing.T) {
	cases := []struct {
		body, field string
	}{
		{``, ""},
		{`not json`, ""},
		{`[]`, ""},
		{`{}`, "action"},
		{`{"subject": {"type": "user", "id": "u"}}`, "action"},
		{`{"subject": {"type": "user", "id": "u"}, "action": {}}`, "action.name"},
		{`{"subject": {"type": "user", "id": "u"}, "action": {"name": 3}}`, "action.name"},
		{`{"subject": {"type": "user", "id": "u"}, "action": {"name": "x"}}`, "resource"},
		{`{"subject": {"type": "user", "id": "u"}, "action": {"name": "x"}, "resource": {"id": "r"}}`, "resource.type"},
		{`{"subject": {"type": "user", "id": "u"}, "action": {"name": "x"}, "resource": {"type": "t"}}`, "resource.id"},
		{`{"subject": {"type": "user", "id": "u"}, "action": {"name": "x"}, "resource": {"type": "t", "id": "r", "properties": []}}`, "resource.properties"},
		{`{"subject": "me", "action": {"name": "x"}, "resource": {"type": "t", "id": "r"}}`, "subject"},
		{`{"subject": {"type": "user"}, "action": {"name": "x"}, "resource": {"type": "t", "id": "r"}}`, "subject.id"},
		{`{"subject": {"type": "user", "id": "u"}, "action": {"name": "x"}, "resource": {"type": "t", "id": "r"}, "context": 1}`, "context"},
		{`{"subject": {"type": "user", "id": "u"}, "action": {"name": "x"}, "resource": {"type": "t", "id": "r"}, "context": {"org": 1}}`, "context.org"},
		{`{"subject": {"type": "user", "id": "u"}, "action": {"name": "x"}, "resource": {"type": "t", "id": "r"}, "context": {"explain": "yes"}}`, "context.explain"},
		{`{"subject": {"type": "user", "id": "u"}, "action": {"name": "x"}, "resource": {"type": "t", "id": "r"}} {}`, ""},
	}
	for _, c := range cases {
		_, err := ParseRequest([]byte(c.body))
		e := verr.As(err)
		if e == nil || e.Code != verr.InvalidInput || e.Field != c.field {
			t.Errorf("%s: got %v, want invalid_input at %q", c.body, err, c.field)
		}
	}
}

func TestParseRequestIgnoresUnknownFieldsAndKeepsProperties(t *testing.T) {
	r, err := ParseRequest([]byte(`{"subject": {"type": "user", "id": "u", "extra": 1}, "action": {"name": "launch"},
		"resource": {"type": "ui_flow", "id": "f", "properties": {"project": "p"}}, "context": {"org": "o", "environment": "prod"}, "more": true}`))
	if err != nil {
		t.Fatal(err)
	}
	if r.SubjectID() != "u" || r.Project() != "p" || r.Org() != "o" || r.Environment() != "prod" {
		t.Fatalf("parsed %+v", r)
	}
	r.WithDefaultOrg("other")
	if r.Org() != "o" {
		t.Fatal("default org replaced an explicit one")
	}
	if _, err := r.Value(); err != nil {
		t.Fatal(err)
	}
}

func TestDefaultOrg(t *testing.T) {
	r, err := ParseRequest([]byte(`{"subject": {"type": "anonymous", "id": "anonymous"}, "action": {"name": "access"}, "resource": {"type": "solution", "id": "p"}}`))
	if err != nil {
		t.Fatal(err)
	}
	r.WithDefaultOrg("demo")
	if r.Org() != "demo" || r.SubjectID() != "" || r.Project() != "p" {
		t.Fatalf("got %+v", r)
	}
}

func FuzzParseRequest(f *testing.F) {
	f.Add([]byte(`{"subject": {"type": "user", "id": "u"}, "action": {"name": "launch"}, "resource": {"type": "ui_flow", "id": "f", "properties": {"project": "p"}}, "context": {"org": "o"}}`))
	f.Add([]byte(`{"action": {"name": 1}}`))
	f.Add([]byte(`{"subject": null, "action": {"name": "a"}, "resource": {"type": "t", "id": "i", "properties": {"n": 1.5e300}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := ParseRequest(data)
		if err != nil {
			if e := verr.As(err); e.Code == "" || e.Code == verr.Internal {
				t.Fatalf("error without a code: %v", err)
			}
			return
		}
		if r.Action == nil || r.Resource == nil || r.Action.Name == "" || r.Resource.Type == "" || r.Resource.ID == "" {
			t.Fatalf("accepted an incomplete request: %s", data)
		}
		if _, err := r.Value(); err != nil {
			t.Fatalf("accepted request has no input value: %v", err)
		}
		_ = r.String()
	})
}

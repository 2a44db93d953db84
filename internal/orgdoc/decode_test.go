package orgdoc

import (
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/verdict-pdp/verdict/internal/verr"
)

func TestAcmeCorpus(t *testing.T) {
	data := readAcme(t)
	c, err := DecodeCorpus(data)
	if err != nil {
		t.Fatalf("acme.json: %v", err)
	}
	if len(c.Orgs) != 2 || c.Orgs[0].Org != "acme" || len(c.Evaluations) == 0 || len(c.Filters) == 0 {
		t.Fatalf("acme.json decoded to an unexpected shape: %d orgs, %d evaluations, %d filters",
			len(c.Orgs), len(c.Evaluations), len(c.Filters))
	}
	// Spot-check fields of every kind: pointer int, nested maps, raw JSON.
	prod := c.Orgs[0].Projects[0].Environments["prod"]
	if p := prod.ActivePolicy.Overrides[1].Priority; p == nil || *p != 2 {
		t.Fatalf("group override priority = %v, want 2", p)
	}
	if got := c.Orgs[0].Projects[0].Builds[0].Processes[0].Swimlanes["approval"]["Manager"]; len(got) != 3 {
		t.Fatalf("swimlane rights = %v", got)
	}
	// Raw fields keep the request as written (same JSON value).
	raw := generic(t, data)
	wantReq := raw["evaluations"].([]any)[0].(map[string]any)["request"]
	var gotReq any
	dec := json.NewDecoder(strings.NewReader(string(c.Evaluations[0].Request)))
	dec.UseNumber()
	if err := dec.Decode(&gotReq); err != nil || !reflect.DeepEqual(gotReq, wantReq) {
		t.Fatalf("request = %s (%v), want %v", c.Evaluations[0].Request, err, wantReq)
	}
	if c.Evaluations[0].Expected.Context["build"] != "b2" {
		t.Fatalf("expected.context = %v", c.Evaluations[0].Expected.Context)
	}

	// Exported documents import again unchanged (json.Marshal writes null
	// for empty slices without omitempty; the decoder accepts it).
	again, err := DecodeCorpus(marshal(t, c))
	if err != nil {
		t.Fatalf("re-decoding the marshalled corpus: %v", err)
	}
	// Compared as JSON: omitempty turns an empty list into an absent one.
	if string(marshal(t, c)) != string(marshal(t, again)) {
		t.Fatal("corpus changed after a marshal/decode round trip")
	}
	for i := range c.Orgs {
		o, err := DecodeOrg(marshal(t, c.Orgs[i]))
		if err != nil {
			t.Fatalf("orgs[%d] alone: %v", i, err)
		}
		if string(marshal(t, o)) != string(marshal(t, c.Orgs[i])) {
			t.Fatalf("orgs[%d] changed after a round trip", i)
		}
	}
}

func TestFixtureRoundTrip(t *testing.T) {
	o, err := DecodeOrg(readFixture(t))
	if err != nil {
		t.Fatalf("testdata/valid_org.json: %v", err)
	}
	o.Projects[0].Builds[1].UIFlows = nil // marshals as null: still accepted
	again, err := DecodeOrg(marshal(t, o))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(o, again) {
		t.Fatal("org changed after a marshal/decode round trip")
	}
}

var deepList = strings.Repeat("[", 5000) + strings.Repeat("]", 5000)

// rawInputCases are refused before any rule applies (TestDecodeRawInput,
// and TestStreamErrors for the streamed decoder).
var rawInputCases = []struct {
	name, doc, field string
}{
	{"empty", "", ""},
	{"blank", " \n\t", ""},
	{"trailing document", `{"org":"a"} {"org":"b"}`, ""},
	{"trailing garbage", `{"org":"a"}}`, ""},
	{"truncated", `{"org":`, "org"},
	{"syntax error keeps the path", `{"users":[{"id": }]}`, "users[0].id"},
	{"trailing comma", `{"users":[],}`, ""},
	{"duplicate key", `{"org":"a","users":[],"org":"b"}`, "org"},
	{"duplicate nested key", `{"org":"a","users":[{"id":"x","id":"y"}]}`, "users[0].id"},
	{"invalid UTF-8", "{\"org\":\"a\xff\"}", ""},
	{"list at top", `[]`, ""},
	{"null at top", `null`, ""},
	{"string at top", `"acme"`, ""},
	{"too deep", `{"org":"a","users":` + deepList + `}`, "users" + strings.Repeat("[0]", maxDepth-1)},
	{"case-insensitive field name", `{"Org":"a"}`, "Org"},
	{"odd key is quoted", `{"org":"a","a b":1}`, `["a b"]`},
}

// TestDecodeRawInput covers input that is refused before any rule applies.
func TestDecodeRawInput(t *testing.T) {
	for _, tc := range rawInputCases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeOrg([]byte(tc.doc))
			wantErr(t, err, verr.InvalidInput, tc.field)
		})
	}
}

func TestDecodeCorpusErrors(t *testing.T) {
	base := func(t *testing.T) map[string]any {
		return map[string]any{
			"description": "tiny corpus",
			"orgs":        []any{generic(t, readFixture(t))},
			"evaluations": []any{map[string]any{
				"name":     "ann runs p1",
				"request":  map[string]any{"subject": map[string]any{"type": "user", "id": "u1"}},
				"expected": map[string]any{"decision": true, "context": map[string]any{"build": "b2", "n": 1}},
			}},
			"filters": []any{map[string]any{
				"name":     "ann's region",
				"filter":   map[string]any{"org": "tiny", "user": "u1", "filter": "by_region"},
				"expected": map[string]any{"values": []any{"eu"}},
			}},
		}
	}
	if c, err := DecodeCorpus(marshal(t, base(t))); err != nil {
		t.Fatalf("base corpus: %v", err)
	} else if string(c.Filters[0].Expected) != `{"values":["eu"]}` {
		t.Fatalf("filter expected kept as %s", c.Filters[0].Expected)
	} else if n, ok := c.Evaluations[0].Expected.Context["n"].(float64); !ok || n != 1 {
		// Context values have the types json.Unmarshal gives, for comparison.
		t.Fatalf("expected.context.n = %#v, want float64(1)", c.Evaluations[0].Expected.Context["n"])
	}
	second := generic(t, readFixture(t))
	cases := []struct {
		name  string
		path  []any
		val   any
		code  verr.Code
		field string
	}{
		{"org rule inside the corpus", []any{"orgs", 0, "users", 3, "status"}, "gone", verr.Invalid, "orgs[0].users[3].status"},
		{"unknown field inside an org", []any{"orgs", 0, "projects", 0, "environments", "prod", "shares", 0, "subject", "team"}, "x", verr.InvalidInput, "orgs[0].projects[0].environments.prod.shares[0].subject.team"},
		{"duplicate org id", []any{"orgs", 1}, second, verr.Invalid, "orgs[1].org"},
		{"orgs not a list", []any{"orgs"}, map[string]any{}, verr.InvalidInput, "orgs"},
		{"unknown corpus field", []any{"version"}, 1, verr.InvalidInput, "version"},
		{"evaluation without name", []any{"evaluations", 0, "name"}, "", verr.Invalid, "evaluations[0].name"},
		{"evaluation without request", []any{"evaluations", 0, "request"}, del, verr.Invalid, "evaluations[0].request"},
		{"request not an object", []any{"evaluations", 0, "request"}, "allow", verr.InvalidInput, "evaluations[0].request"},
		{"request null", []any{"evaluations", 0, "request"}, nil, verr.InvalidInput, "evaluations[0].request"},
		{"decision not a bool", []any{"evaluations", 0, "expected", "decision"}, "true", verr.InvalidInput, "evaluations[0].expected.decision"},
		{"unknown expected field", []any{"evaluations", 0, "expected", "reasons"}, []any{}, verr.InvalidInput, "evaluations[0].expected.reasons"},
		{"filter case without name", []any{"filters", 0, "name"}, del, verr.Invalid, "filters[0].name"},
		{"filter case without org", []any{"filters", 0, "filter", "org"}, "", verr.Invalid, "filters[0].filter.org"},
		{"filter case without user", []any{"filters", 0, "filter", "user"}, del, verr.Invalid, "filters[0].filter.user"},
		{"filter case without filter", []any{"filters", 0, "filter", "filter"}, "", verr.Invalid, "filters[0].filter.filter"},
		{"filter case without expected", []any{"filters", 0, "expected"}, del, verr.Invalid, "filters[0].expected"},
		{"filter expected not an object", []any{"filters", 0, "expected"}, []any{}, verr.InvalidInput, "filters[0].expected"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			doc := edit(t, base(t), tc.path, tc.val)
			_, err := DecodeCorpus(marshal(t, doc))
			wantErr(t, err, tc.code, tc.field)
		})
	}
}

// TestErrorDetails checks what a client gets beyond code and field.
func TestErrorDetails(t *testing.T) {
	fix := generic(t, readFixture(t))
	asErr := func(err error) *verr.Error {
		t.Helper()
		var ve *verr.Error
		if !errors.As(err, &ve) {
			t.Fatalf("not a *verr.Error: %v", err)
		}
		return ve
	}

	// An unknown field lists the known ones.
	_, err := DecodeOrg([]byte(`{"org":"a","users":[{"id":"u","nick":"x"}]}`))
	if e := asErr(err); !slices.Contains(e.Allowed, "username") || len(e.Allowed) != 8 {
		t.Fatalf("allowed user fields = %v", e.Allowed)
	}
	// A closed set lists its values.
	edit(t, fix, []any{"users", 0, "status"}, "gone")
	_, err = DecodeOrg(marshal(t, fix))
	if e := asErr(err); !slices.Equal(e.Allowed, []string{"invited", "active", "disabled"}) {
		t.Fatalf("allowed statuses = %v", e.Allowed)
	}
	// A non-integer and an overflow are told apart.
	for doc, want := range map[string]string{
		`{"org":"a","users":[{"id":"u","username":"u","status":"active","designer_user":true}],"x":1}`:                                                                                        "unknown field",
		`{"org":"a","projects":[{"id":"p","workspace":"w","environments":{"e":{"active_policy":{"default":{"build":"b"},"overrides":[{"type":"group","priority":1.5}]}}}}]}`:                  "expected an integer, got 1.5",
		`{"org":"a","projects":[{"id":"p","workspace":"w","environments":{"e":{"active_policy":{"default":{"build":"b"},"overrides":[{"type":"group","priority":99999999999999999999}]}}}}]}`: "out of range",
		"{\"org\":\"a\xff\"}": "offset 9",
	} {
		if _, err := DecodeOrg([]byte(doc)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v, want a message with %q", doc, err, want)
		}
	}
}

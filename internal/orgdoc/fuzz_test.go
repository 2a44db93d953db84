package orgdoc

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/verdict-pdp/verdict/internal/verr"
)

// brokenSeeds are near misses that steer the fuzzer toward each error path.
var brokenSeeds = []string{
	``, ` `, `null`, `[]`, `"x"`, `{`, `{"org":`, `{"org":"a"}}`, `{"org":"a"} 1`,
	`{"org":"a","org":"a"}`, `{"org":"A"}`, `{"org":"a","users":"u"}`,
	`{"org":"a","users":[{"id":"u","username":"u","status":"active","designer_user":1}]}`,
	`{"org":"a","roles":[{"name":"R"}],"users":[{"id":"u","username":"u","status":"active"}],"groups":[{"name":"G","members":["u"]}],` +
		`"projects":[{"id":"p","workspace":"w","builds":[{"id":"b","branch":"m","created":"2026-01-01T00:00:00Z","roles":["R"],"ui_flows":[],"processes":[]}],` +
		`"environments":{"prod":{"active_policy":{"default":{"build":"b"},"overrides":[{"type":"group","group":"G","priority":1.5,"policy":{"build":"b"}}]},"shares":[{"subject":{"group":"G"},"roles":["R"]}]}}}]}`,
	`{"org":"a","projects":[{"id":"p","workspace":"w","environments":{"prod":null}}]}`,
	"{\"org\":\"\xff\"}",
	`[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[`,
}

// orgSeeds returns valid org documents cut from the fixture, compact and
// small so that minimizing inputs derived from them stays cheap: its people
// half (no projects) and its projects half.
func orgSeeds(f *testing.F) [][]byte {
	data, err := os.ReadFile("testdata/valid_org.json")
	if err != nil {
		f.Fatal(err)
	}
	whole := generic(f, data)
	people := generic(f, data)
	delete(people, "projects")
	people["designer_roles"] = []any{}
	projects := map[string]any{}
	for _, k := range []string{"org", "users", "roles", "groups", "projects"} {
		projects[k] = whole[k]
	}
	projects["projects"] = whole["projects"].([]any)[:1]
	var seeds [][]byte
	for _, doc := range []any{people, projects} {
		b := marshal(f, doc)
		if _, err := DecodeOrg(b); err != nil {
			f.Fatalf("seed does not decode: %v", err)
		}
		seeds = append(seeds, b)
	}
	return seeds
}

// checkDecodeErr asserts the contract every decode failure must keep.
func checkDecodeErr(t *testing.T, err error) {
	var ve *verr.Error
	if !errors.As(err, &ve) {
		t.Fatalf("error is not a *verr.Error: %T %v", err, err)
	}
	if ve.Code == "" {
		t.Fatalf("error without a code: %v", err)
	}
	if ve.Code == verr.Internal {
		t.Fatalf("internal error (a decoder bug): %v", err)
	}
}

// The seeds are small on purpose: the fuzzer minimizes every input that
// finds new coverage, at a cost that grows with its size, and seeding with
// acme.json (47 KB) spends a whole short run minimizing. The fixture
// exercises every rule; TestAcmeCorpus covers acme.json.
func FuzzDecodeOrg(f *testing.F) {
	for _, seed := range orgSeeds(f) {
		f.Add(seed)
	}
	for _, s := range brokenSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		o, err := DecodeOrg(data)
		if err != nil {
			checkDecodeErr(t, err)
			if o != nil {
				t.Fatal("an org returned with an error")
			}
			return
		}
		// What was accepted must export and import again (backup/restore).
		out, err := json.Marshal(o)
		if err != nil {
			t.Fatalf("marshal accepted org: %v", err)
		}
		if _, err := DecodeOrg(out); err != nil {
			t.Fatalf("re-decoding an accepted org: %v\n%s", err, out)
		}
	})
}

func FuzzDecodeCorpus(f *testing.F) {
	// Org documents are FuzzDecodeOrg's concern: a tiny org keeps inputs
	// small and the fuzzer on the corpus structure.
	const org = `{"org":"a","users":[{"id":"u","username":"u","status":"active"}],"business_filters":[{"id":"f","field":"t.c","attribute":"k"}]}`
	f.Add([]byte(`{"description":"d","orgs":[` + org + `],` +
		`"evaluations":[{"name":"n","request":{"a":[1,{"b":null}],"c":"\u00e9"},"expected":{"decision":true,"context":{"x":1.5,"y":[true]}}}],` +
		`"filters":[{"name":"n","filter":{"org":"a","user":"u","filter":"f"},"expected":{"values":[]}}]}`))
	f.Add([]byte(`{"orgs":[` + org + `,` + org + `]}`))
	f.Add([]byte(`{"orgs":[],"evaluations":[{"name":"n","request":"x"}]}`))
	f.Add([]byte(`{"orgs":[],"evaluations":[{"name":"n","request":{},"expected":{"context":{"n":1e400}}}]}`))
	for _, s := range brokenSeeds[:12] {
		f.Add([]byte(`{"orgs":[` + s + `]}`))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := DecodeCorpus(data)
		if err != nil {
			checkDecodeErr(t, err)
			if c != nil {
				t.Fatal("a corpus returned with an error")
			}
			return
		}
		out, err := json.Marshal(c)
		if err != nil {
			t.Fatalf("marshal accepted corpus: %v", err)
		}
		if _, err := DecodeCorpus(out); err != nil {
			t.Fatalf("re-decoding an accepted corpus: %v\n%s", err, out)
		}
	})
}

// plain converts a parsed tree to what encoding/json (with UseNumber) gives.
func plain(v any) any {
	switch t := v.(type) {
	case *object:
		m := make(map[string]any, len(t.vals))
		for k, x := range t.vals {
			m[k] = plain(x)
		}
		return m
	case []any:
		out := make([]any, len(t))
		for i, x := range t {
			out[i] = plain(x)
		}
		return out
	}
	return v
}

// FuzzParseJSON checks the hand-written parser against encoding/json: it
// accepts exactly the valid UTF-8 JSON documents, minus duplicate keys and
// deep nesting, and reads the same values.
func FuzzParseJSON(f *testing.F) {
	for _, s := range []string{
		`{}`, `[]`, `0`, `-0`, `-1.5e+10`, `1E-2`, `01`, `1.`, `.5`, `-`, `+1`, `1e`, `tru`, `true`, `nul`, `null `,
		`"a"`, `"\u00e9\ud83d\ude00"`, `"\ud800"`, `"\x"`, `"\u12"`, "\"\t\"", `"a\/b\\c\"d"`,
		`{"a":[1,{"b":null,"c":false}],"d":"e"}`, `{"a":1,"a":2}`, `{"a" 1}`, `{"a":1,}`, `[1,]`, `[1 2]`,
		` {"a" : [ ] } `, `{} x`, `[[[[[[[[[[]]]]]]]]]]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		tree, err := parseJSON(data)
		valid := json.Valid(data) && utf8.Valid(data)
		if err != nil {
			if verr.CodeOf(err) != verr.InvalidInput {
				t.Fatalf("code %s: %v", verr.CodeOf(err), err)
			}
			if valid && !strings.Contains(err.Error(), "duplicate key") && !strings.Contains(err.Error(), "nests deeper") {
				t.Fatalf("refused valid JSON %q: %v", data, err)
			}
			return
		}
		if !valid {
			t.Fatalf("accepted invalid JSON %q", data)
		}
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		var want any
		if err := dec.Decode(&want); err != nil {
			t.Fatalf("encoding/json: %v", err)
		}
		if got := plain(tree); !reflect.DeepEqual(got, want) {
			t.Fatalf("parsed %q as %#v, encoding/json reads %#v", data, got, want)
		}
	})
}

package orgdoc

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"testing"

	"github.com/verdict-pdp/verdict/internal/verr"
)

// acmePath is the shared conformance corpus, outside this repository.
const acmePath = "../../../shared/conformance/acme.json"

// readAcme returns acme.json, skipping the test when ../shared is absent
// (a checkout without the shared conformance directory).
func readAcme(t testing.TB) []byte {
	t.Helper()
	data, err := os.ReadFile(acmePath)
	if errors.Is(err, os.ErrNotExist) {
		t.Skip("../shared is absent: " + acmePath + " not found")
	}
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// readFixture returns testdata/valid_org.json.
func readFixture(t testing.TB) []byte {
	t.Helper()
	data, err := os.ReadFile("testdata/valid_org.json")
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// generic decodes JSON with encoding/json into maps and slices to mutate;
// numbers stay json.Number so integers re-marshal unchanged.
func generic(t testing.TB, data []byte) map[string]any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatal(err)
	}
	return m
}

func marshal(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// del as a mutation value deletes the key at the end of the path.
type deleteT struct{}

var del = deleteT{}

// edit sets val at path (string keys, int indexes; an index equal to the
// list's length appends) inside node and returns the updated node.
func edit(t testing.TB, node any, path []any, val any) any {
	t.Helper()
	if len(path) == 0 {
		return val
	}
	switch k := path[0].(type) {
	case string:
		m, ok := node.(map[string]any)
		if !ok {
			t.Fatalf("edit: %v is not an object", path)
		}
		if len(path) == 1 && val == del {
			delete(m, k)
			return m
		}
		m[k] = edit(t, m[k], path[1:], val)
		return m
	case int:
		s, ok := node.([]any)
		if !ok {
			t.Fatalf("edit: %v is not a list", path)
		}
		if k == len(s) {
			s = append(s, nil)
		}
		s[k] = edit(t, s[k], path[1:], val)
		return s
	}
	t.Fatalf("edit: bad path element %v", path[0])
	return nil
}

// wantErr asserts err is a *verr.Error with code and field.
func wantErr(t *testing.T, err error, code verr.Code, field string) {
	t.Helper()
	var ve *verr.Error
	if !errors.As(err, &ve) {
		t.Fatalf("want *verr.Error %s at %q, got %v", code, field, err)
	}
	if ve.Code != code || ve.Field != field {
		t.Fatalf("want %s at %q, got %s at %q (%s)", code, field, ve.Code, ve.Field, ve.Message)
	}
}

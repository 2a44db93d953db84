package engine_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/verdict-pdp/verdict/internal/engine"
	"github.com/verdict-pdp/verdict/internal/verr"
)

const dataPolicies = `package verdict.main
decision := {"decision": true, "context": {"policy": "allow_all", "list": ["a", "b"]}}
`

const extPolicy = `package acme.rules
allow if input.ok
`

func dataEngine(t *testing.T, max int) *engine.Engine {
	t.Helper()
	e, err := engine.New(context.Background(), engine.Config{
		Modules:      map[string]string{"a.rego": dataPolicies, "b.rego": extPolicy},
		Data:         map[string]any{"acme": map[string]any{"config": map[string]any{"level": 3.0}}},
		DataPathsMax: max,
	})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// TestDataPathsKnownAndUnknown: what the data API answers for a path,
// depending on what the policies define there (engine.DataPath).
func TestDataPathsKnownAndUnknown(t *testing.T) {
	e := dataEngine(t, 0)
	ctx := context.Background()
	in, facts := mustValue(t, `{"ok": true}`), mustValue(t, `{"demo": {"x": 1}}`)
	for _, tc := range []struct {
		path  string
		found bool
		want  string // fmt %v of the value
		code  verr.Code
	}{
		{path: "verdict/main/decision/decision", found: true, want: "true"},    // below a rule
		{path: "verdict/main/decision/context/list/1", found: true, want: "b"}, // an array element
		{path: "verdict/main/decision/context/nothing", found: false},          // below a rule, undefined
		{path: "verdict/main", found: true, want: "map[decision:map[context:map[list:[a b] policy:allow_all] decision:true]]"},
		{path: "acme/rules/allow", found: true, want: "true"},      // a rule of an extension package
		{path: "acme/config/level", found: true, want: "3"},        // base data
		{path: "verdict_data/orgs/demo/x", found: true, want: "1"}, // the facts (resolver)
		{path: "verdict/nothing", code: verr.NotFound},             // under a package, defined nowhere
		{path: "nowhere/at/all", code: verr.NotFound},
		{path: "acme/other", code: verr.NotFound},
	} {
		v, found, err := e.Query(ctx, tc.path, in, facts)
		if tc.code != "" {
			if verr.CodeOf(err) != tc.code {
				t.Errorf("%s: got %v %v, want %s", tc.path, v, err, tc.code)
			}
			continue
		}
		if err != nil || found != tc.found || (found && fmt.Sprint(v) != tc.want) {
			t.Errorf("%s: got %v found=%v err=%v, want %s found=%v", tc.path, v, found, err, tc.want, tc.found)
		}
	}
}

// TestDataPathsBounded: 10,000 distinct paths, unknown ones and deep ones
// below a rule, prepare one query per rule they reach, never one per path;
// and the bound holds even over defined keys.
func TestDataPathsBounded(t *testing.T) {
	e := dataEngine(t, 0)
	ctx := context.Background()
	in, facts := mustValue(t, `{}`), mustValue(t, `{}`)
	for i := range 10_000 {
		path := fmt.Sprintf("random/%d/path", i)
		if i%2 == 1 {
			path = fmt.Sprintf("verdict/main/decision/context/%d", i)
		}
		if _, _, err := e.Query(ctx, path, in, facts); i%2 == 0 && verr.CodeOf(err) != verr.NotFound {
			t.Fatalf("%s: %v, want not_found", path, err)
		}
	}
	if n := e.PreparedDataPaths(); n != 1 {
		t.Fatalf("%d prepared queries after 10,000 distinct paths; want 1 (verdict/main/decision)", n)
	}
	small := dataEngine(t, 2)
	for _, p := range []string{"verdict/main/decision", "verdict/main", "verdict", "acme/rules/allow", "acme/config"} {
		if _, _, err := small.Query(ctx, p, in, facts); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
	}
	if n := small.PreparedDataPaths(); n != 2 {
		t.Fatalf("%d prepared queries with --data-paths-max 2", n)
	}
}

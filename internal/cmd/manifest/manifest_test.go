package manifest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/verdict-pdp/verdict/internal/cmd/manifest"
	"github.com/verdict-pdp/verdict/internal/decision"
)

func run(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := manifest.Run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestManifestCommand(t *testing.T) {
	code, out, errs := run("--org-file", "../../../data/demo.json", "--user", "u-tom", "--project", "mortgage", "--env", "prod")
	for _, want := range []string{"access: yes, build m1 (default)", "review: may launch", "component approve: hidden",
		"component comment: disabled", "swimlane decision: view", "credit_check: may not run", "any other flow: may run"} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("text lacks %q (exit %d, %s):\n%s", want, code, errs, out)
		}
	}
	code, out, _ = run("--org-file", "../../../data/demo.json", "--user", "u-maria", "--project", "mortgage", "--env", "prod", "--json", "--explain")
	var m decision.Manifest
	if err := json.Unmarshal([]byte(out), &m); code != 0 || err != nil || m.Build != "m2" || m.Rule != "group_override" || m.Access.Context["reasons"] == nil {
		t.Errorf("json: exit %d, %v, %+v", code, err, m)
	}
	for _, args := range [][]string{
		{"--user", "u", "--project", "p", "--env", "e"},                                              // neither --url nor --org-file
		{"--org-file", "x.json", "--url", "http://x", "--user", "u", "--project", "p", "--env", "e"}, // both
		{"--org-file", "../../../data/demo.json", "--project", "p", "--env", "e"},                    // no user
		{"--org-file", "no-such-file.json", "--user", "u", "--project", "p", "--env", "e"},
	} {
		if code, _, errs := run(args...); code != 2 || errs == "" {
			t.Errorf("%v: exit %d, %q (want 2 and a message)", args, code, errs)
		}
	}
}

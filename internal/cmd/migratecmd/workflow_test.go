package migratecmd_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/verdict-pdp/verdict/internal/cmd/checklist"
	"github.com/verdict-pdp/verdict/internal/cmd/migratecmd"
	"github.com/verdict-pdp/verdict/internal/cmd/promote"
	"github.com/verdict-pdp/verdict/internal/cmd/reviewcmd"
	"github.com/verdict-pdp/verdict/internal/orgdoc"
	"github.com/verdict-pdp/verdict/internal/testutil/redistest"
)

type command func(ctx context.Context, args []string, stdout, stderr io.Writer) int

// The upgrade as an admin runs it from the command line, against a real
// Redis: migrate (dry run, then applied), the checklist, a promotion (dry
// run, then applied), the review. Each step's exit code and output are
// checked.
func TestUpgradeWorkflow(t *testing.T) {
	srv := redistest.Shared(t)
	if err := srv.Client(t).FlushAll(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	doc := filepath.Join(dir, "acme.json")
	export := "../../migrate/testdata/acme-5.1.json"
	badExport := filepath.Join(dir, "bad.json")
	b, _ := os.ReadFile(export)
	if err := os.WriteFile(badExport, bytes.Replace(b, []byte(`"Back office",`), []byte(`"Back/office",`), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	redis := []string{"--redis-url", srv.URL()}
	for _, s := range []struct {
		name   string
		cmd    command
		args   []string
		code   int
		stdout []string // substrings, in order
		stderr string
		check  func(t *testing.T, stdout string)
	}{
		{name: "usage", cmd: migratecmd.Run, args: nil, code: 2, stderr: "verdict migrate: --from-51 EXPORT.json is required"},
		{name: "a broken export names the field", cmd: migratecmd.Run, args: []string{"--from-51", badExport}, code: 2,
			stderr: "invalid: groups[0].name"},
		{name: "dry run", cmd: migratecmd.Run, args: []string{"--from-51", export, "--out", doc}, code: 0,
			stdout: []string{"5.1 migration of org acme: 14 users (4 had access)", "ui_flow.default_role", "users to invite (2): u-bob, u-ivan",
				"replay: 4 users who had access, 142 decisions compared, 142 agree, 0 differ with a known cause, 0 differ unexplained"},
			stderr: "dry run: nothing written",
			check: func(t *testing.T, _ string) {
				b, err := os.ReadFile(doc)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := orgdoc.DecodeOrg(b); err != nil {
					t.Fatalf("--out wrote a document that does not validate: %v", err)
				}
			}},
		{name: "nothing in Redis after the dry run", cmd: checklist.Run, args: append([]string{"--org", "acme"}, redis...), code: 1,
			stderr: `no org "acme"`},
		{name: "apply", cmd: migratecmd.Run, args: append([]string{"--from-51", export, "--apply", "--format", "json"}, redis...), code: 0,
			stdout: []string{`"org": "acme"`, "applied: org acme at revision 1"}},
		{name: "apply again without --replace", cmd: migratecmd.Run, args: append([]string{"--from-51", export, "--apply"}, redis...), code: 1,
			stderr: "(or pass --replace)"},
		{name: "checklist", cmd: checklist.Run, args: append([]string{"--org", "acme", "--format", "json"}, redis...), code: 0,
			check: func(t *testing.T, out string) {
				var cl struct {
					Counts   map[string]int
					Findings []struct{ Code string }
				}
				if err := json.Unmarshal([]byte(out), &cl); err != nil {
					t.Fatal(err)
				}
				want := map[string]int{"ui_flow_default_role": 5, "deprecated_role_override": 3, "share_role_outside_active_build": 1,
					"no_active_policy": 1, "no_shares": 1, "empty_group": 1, "legacy_grant_in_use": 2, "user_not_invited": 2}
				if len(cl.Findings) != 16 || len(cl.Counts) != len(want) {
					t.Fatalf("%d findings %v", len(cl.Findings), cl.Counts)
				}
				for k, n := range want {
					if cl.Counts[k] != n {
						t.Errorf("%d %s, want %d", cl.Counts[k], k, n)
					}
				}
			}},
		{name: "checklist of a file", cmd: checklist.Run, args: []string{"--org", "acme", "--from", doc, "--env", "dev"}, code: 0,
			stdout: []string{"empty_group  Auditors  (groups[3])", "fix: Add its members", "3 findings in org acme (revision 0)"}},
		// A dry run that would be refused exits 1, and shows why.
		{name: "promotion, dry run", cmd: promote.Run, args: append([]string{"--org", "acme", "--project", "loans", "--from", "prod", "--to", "dev"}, redis...), code: 1,
			stdout: []string{"promotion of loans from prod to dev (dry run); dev then serves build b1",
				"= projects/loans/environments/dev/active-policy/default",
				"+ projects/loans/environments/dev/active-policy/overrides/usernames/alice",
				"= projects/loans/environments/dev/shares/groups/Beta testers",
				"+ projects/loans/environments/dev/shares/groups/Auditors",
				"REFUSED projects/loans/environments/dev/shares/groups/Auditors: the target's active build b1 does not list Auditor",
				"4 changes, 1 refused"}},
		{name: "promotion refused", cmd: promote.Run, args: append([]string{"--org", "acme", "--project", "loans", "--from", "prod", "--to", "dev", "--apply"}, redis...), code: 1,
			stderr: "cannot be promoted to dev"},
		{name: "promotion applied", cmd: promote.Run, args: append([]string{"--org", "acme", "--project", "loans", "--from", "uat", "--to", "prod", "--apply", "--justification", "release 7"}, redis...), code: 0,
			stdout: []string{"promotion of loans from uat to prod (applied at revision 2); prod then serves build b2", "1 changes, 0 refused"}},
		{name: "review as CSV", cmd: reviewcmd.Run, args: append([]string{"--org", "acme", "--project", "loans", "--env", "prod", "--format", "csv"}, redis...), code: 0,
			check: func(t *testing.T, out string) {
				recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
				if err != nil {
					t.Fatal(err)
				}
				found := map[string]bool{}
				for _, r := range recs[1:] {
					res := r[6]
					if r[5] == "designer_role" {
						res = "#" // the assignment's id
					}
					found[strings.Join(r[:2], " ")+" "+r[5]+" "+res+" "+r[7]] = true
				}
				for _, want := range []string{"access u-hank solution loans access", "access u-carol ui_flow beta_flow launch", "legacy_only u-hank solution loans access",
					"unjustified_designer_role u-olga designer_role # org_admin"} {
					if !found[want] {
						t.Errorf("no row %q in\n%s", want, out)
					}
				}
				if found["access u-bob solution loans access"] {
					t.Error("bob, with no role after the migration, is listed with access")
				}
			}},
		{name: "review of an unknown project", cmd: reviewcmd.Run, args: append([]string{"--org", "acme", "--project", "nope"}, redis...), code: 2,
			stderr: `no project "nope"`},
	} {
		t.Run(s.name, func(t *testing.T) {
			var out, errw bytes.Buffer
			code := s.cmd(context.Background(), s.args, &out, &errw)
			if code != s.code {
				t.Fatalf("exit %d, want %d\nstdout %s\nstderr %s", code, s.code, out.String(), errw.String())
			}
			rest := out.String()
			for _, want := range s.stdout {
				i := strings.Index(rest, want)
				if i < 0 {
					t.Fatalf("stdout lacks %q (in order):\n%s", want, out.String())
				}
				rest = rest[i+len(want):]
			}
			if !strings.Contains(errw.String(), s.stderr) {
				t.Fatalf("stderr lacks %q:\n%s", s.stderr, errw.String())
			}
			if s.check != nil {
				s.check(t, out.String())
			}
		})
	}
}

package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/verdict-pdp/verdict/internal/cmd/bundlecmd"
	"github.com/verdict-pdp/verdict/internal/cmd/cliflag"
	"github.com/verdict-pdp/verdict/internal/cmd/policytest"
)

func runArgs(args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// commands is every command line, with the environment variables its help
// must name (explicitly: a flag that loses its variable fails here).
var commands = []struct {
	path string
	env  []string
}{
	{"serve", []string{"VERDICT_ADDR", "VERDICT_REDIS_URL", "VERDICT_AUTH", "VERDICT_OIDC_ISSUER", "VERDICT_OIDC_AUDIENCE",
		"VERDICT_DEFAULT_ORG", "VERDICT_BUNDLE_SIGNING_KEY", "VERDICT_CONFIG", "VERDICT_DECISION_LOG", "VERDICT_TLS_CERT",
		"VERDICT_ACCESS_LOG", "VERDICT_OTLP_ENDPOINT", "VERDICT_OTLP_SAMPLE_RATIO"}},
	{"edge", []string{"VERDICT_ADDR", "VERDICT_VERIFICATION_KEY", "VERDICT_DATA_DIR", "VERDICT_DEFAULT_ORG", "VERDICT_AUTH",
		"VERDICT_OIDC_ISSUER", "VERDICT_OIDC_AUDIENCE", "VERDICT_ACCESS_LOG", "VERDICT_OTLP_ENDPOINT", "VERDICT_OTLP_SAMPLE_RATIO"}},
	{"check", []string{"VERDICT_TOKEN", "VERDICT_CA_CERT", "VERDICT_CLIENT_CERT", "VERDICT_CLIENT_KEY"}},
	{"manifest", []string{"VERDICT_TOKEN"}},
	{"policy test", nil},
	{"import", []string{"VERDICT_REDIS_URL"}},
	{"export", []string{"VERDICT_REDIS_URL"}},
	{"bundle build", []string{"VERDICT_REDIS_URL", "VERDICT_BUNDLE_SIGNING_KEY"}},
	{"bundle inspect", []string{"VERDICT_VERIFICATION_KEY"}},
	{"bundle serve", []string{"VERDICT_REDIS_URL", "VERDICT_BUNDLE_SIGNING_KEY", "VERDICT_AUTH"}},
	{"bundle keygen", nil},
	{"migrate", []string{"VERDICT_REDIS_URL"}},
	{"checklist", []string{"VERDICT_REDIS_URL"}},
	{"promote", []string{"VERDICT_REDIS_URL"}},
	{"review", []string{"VERDICT_REDIS_URL"}},
	{"bench", []string{"VERDICT_TOKEN", "VERDICT_CA_CERT", "VERDICT_CLIENT_CERT", "VERDICT_CLIENT_KEY"}},
	{"gen", nil},
	{"healthcheck", nil},
	{"version", nil},
}

// groups are the commands made of subcommands.
var groups = []string{"", "policy", "bundle"}

// TestEveryCommandIsListed keeps the table above complete.
func TestEveryCommandIsListed(t *testing.T) {
	var want []string
	for _, s := range root().Subs {
		switch s.Name {
		case "policy":
			for _, p := range policytest.Group().Subs {
				want = append(want, "policy "+p.Name)
			}
		case "bundle":
			for _, b := range bundlecmd.Group().Subs {
				want = append(want, "bundle "+b.Name)
			}
		default:
			want = append(want, s.Name)
		}
	}
	var have []string
	for _, c := range commands {
		have = append(have, c.path)
	}
	slices.Sort(want)
	slices.Sort(have)
	if !slices.Equal(want, have) {
		t.Errorf("commands under test %q, the binary has %q", have, want)
	}
}

// flagLine is a flag's line in the help: two spaces, --name, maybe a value.
var flagLine = regexp.MustCompile(`(?m)^  --([a-z0-9-]+)( \S+)?$`)

func TestHelp(t *testing.T) {
	for _, c := range commands {
		for _, h := range []string{"--help", "-h"} {
			args := append(strings.Fields(c.path), h)
			code, stdout, stderr := runArgs(args...)
			if code != 0 || stderr != "" {
				t.Errorf("verdict %s %s: exit %d, stderr %q", c.path, h, code, stderr)
				continue
			}
			if !strings.HasPrefix(stdout, "Usage: verdict "+c.path) {
				t.Errorf("verdict %s %s: no usage line first: %q", c.path, h, stdout)
			}
			if !strings.Contains(stdout, "\nExamples:\n  verdict ") {
				t.Errorf("verdict %s %s: no examples:\n%s", c.path, h, stdout)
			}
			for _, env := range c.env {
				if !strings.Contains(stdout, "env "+env+")") && !strings.Contains(stdout, "env "+env+";") {
					t.Errorf("verdict %s --help does not name %s:\n%s", c.path, env, stdout)
				}
			}
			if c.path != "version" && (!strings.Contains(stdout, "\nFlags:\n") || len(flagLine.FindAllString(stdout, -1)) == 0) {
				t.Errorf("verdict %s %s: no flags listed:\n%s", c.path, h, stdout)
			}
		}
		// `verdict help PATH` is the same help.
		_, viaHelp, _ := runArgs(append([]string{"help"}, strings.Fields(c.path)...)...)
		_, direct, _ := runArgs(append(strings.Fields(c.path), "--help")...)
		if viaHelp != direct {
			t.Errorf("verdict help %s differs from verdict %s --help", c.path, c.path)
		}
	}
	for _, g := range groups {
		code, stdout, stderr := runArgs(append(strings.Fields(g), "--help")...)
		if code != 0 || stderr != "" || !strings.HasPrefix(stdout, strings.TrimSpace("Usage: verdict "+g)+" COMMAND") || !strings.Contains(stdout, "\nCommands:\n") {
			t.Errorf("verdict %s --help: exit %d stderr %q stdout %q", g, code, stderr, stdout)
		}
	}
	if code, stdout, _ := runArgs("help"); code != 0 || !strings.Contains(stdout, "  healthcheck  ") {
		t.Errorf("verdict help: exit %d\n%s", code, stdout)
	}
}

func TestUsageErrors(t *testing.T) {
	for _, c := range commands {
		args := append(strings.Fields(c.path), "--no-such-flag")
		code, stdout, stderr := runArgs(args...)
		want := "verdict " + c.path + ": unknown flag --no-such-flag\nRun 'verdict " + c.path + " --help' for usage.\n"
		if code != 2 || stdout != "" || stderr != want {
			t.Errorf("verdict %s --no-such-flag: exit %d, stdout %q, stderr %q; want 2 and %q", c.path, code, stdout, stderr, want)
		}
	}
	for _, tc := range []struct {
		args   []string
		stderr string
	}{
		{nil, "Usage: verdict COMMAND"},
		{[]string{"nope"}, "verdict: unknown command \"nope\"\nRun 'verdict --help' for the list of commands.\n"},
		{[]string{"--nope"}, "verdict: unknown flag \"--nope\""},
		{[]string{"bundle"}, "Usage: verdict bundle COMMAND"},
		{[]string{"bundle", "nope"}, "verdict bundle: unknown command \"nope\""},
		{[]string{"policy", "nope"}, "verdict policy: unknown command \"nope\""},
		{[]string{"check"}, "verdict check: give at least one corpus FILE\n"},
		{[]string{"version", "extra"}, "verdict version: unexpected argument \"extra\""},
	} {
		code, stdout, stderr := runArgs(tc.args...)
		if code != 2 || stdout != "" || !strings.Contains(stderr, tc.stderr) {
			t.Errorf("verdict %q: exit %d, stdout %q, stderr %q; want 2 and %q", tc.args, code, stdout, stderr, tc.stderr)
		}
	}
}

func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"--version"}} {
		code, stdout, stderr := runArgs(args...)
		if code != 0 || stderr != "" || !regexp.MustCompile(`^verdict \S+.*, OPA v1\.\d+\.\d+, go1\.\d+`).MatchString(stdout) {
			t.Errorf("verdict %v: exit %d, %q %q", args, code, stdout, stderr)
		}
	}
}

var update = flag.Bool("update", false, "rewrite docs/cli.md from the commands' help")

const cliDoc = "../../docs/cli.md"

// TestCLIDoc keeps docs/cli.md equal to the commands' own help (go test
// ./cmd/verdict -run TestCLIDoc -update rewrites it).
func TestCLIDoc(t *testing.T) {
	var b strings.Builder
	b.WriteString(`# Command line

Every command of the ` + "`verdict`" + ` binary, as its ` + "`--help`" + ` prints it (this page is generated from
the help: ` + "`go test ./cmd/verdict -run TestCLIDoc -update`" + `). Help goes to stdout and exits 0
(` + "`verdict help COMMAND`" + ` is the same); a bad flag or an unknown command exits 2 with a one-line
hint on stderr. A flag's environment variable, when it has one, is used when the flag is not
given (flag > environment > default). Progress (import, export, bench, bundle build) is
redrawn in place only on a terminal; a file, a pipe or a CI log gets plain lines.

`)
	section := func(title string, args ...string) {
		_, out, _ := runArgs(append(args, "--help")...)
		fmt.Fprintf(&b, "## %s\n\n```text\n%s```\n\n", title, out)
	}
	section("verdict")
	for _, c := range root().Subs {
		switch c.Name {
		case "policy", "bundle":
			section("verdict "+c.Name, c.Name)
			g := map[string]*cliflag.Group{"policy": policytest.Group(), "bundle": bundlecmd.Group()}[c.Name]
			for _, s := range g.Subs {
				section("verdict "+c.Name+" "+s.Name, c.Name, s.Name)
			}
		default:
			section("verdict "+c.Name, c.Name)
		}
	}
	want := strings.TrimRight(b.String(), "\n") + "\n"
	if *update {
		if err := os.WriteFile(cliDoc, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	have, err := os.ReadFile(cliDoc)
	if err != nil {
		t.Fatal(err)
	}
	if string(have) != want {
		t.Errorf("docs/cli.md differs from the commands' help: run go test ./cmd/verdict -run TestCLIDoc -update")
	}
}

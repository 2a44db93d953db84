package cliflag

import (
	"bytes"
	"context"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"
)

// cmd is a command with one flag of each kind the subcommands use.
func cmd() (*Command, *string, *time.Duration, *bool) {
	c := New("thing do", "FILE... [flags]", "Does the thing.", "verdict thing do a.json")
	url := c.String("url", "http://x", "base `URL`")
	c.Env("url", "VERDICT_TEST_URL")
	d := c.Duration("wait", time.Second, "how long")
	c.Env("wait", "VERDICT_TEST_WAIT")
	v := c.Bool("v", false, "verbose")
	return c, url, d, v
}

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		name     string
		args     []string
		env      map[string]string
		pos      []string
		url      string
		wait     time.Duration
		verbose  bool
		code     int
		ok       bool
		stdout   string // substring ("" : must be empty)
		stderr   string // substring ("" : must be empty)
		noStdout bool
	}{
		{name: "defaults", args: []string{"a.json"}, pos: []string{"a.json"}, url: "http://x", wait: time.Second, ok: true},
		{name: "flags after positionals", args: []string{"a.json", "--url", "http://y", "b.json", "-v"},
			pos: []string{"a.json", "b.json"}, url: "http://y", wait: time.Second, verbose: true, ok: true},
		{name: "after -- everything is positional", args: []string{"a.json", "--", "--url", "-v"},
			pos: []string{"a.json", "--url", "-v"}, url: "http://x", wait: time.Second, ok: true},
		{name: "environment when the flag is absent", args: []string{"a.json"}, env: map[string]string{"VERDICT_TEST_URL": "http://env", "VERDICT_TEST_WAIT": "3s"},
			pos: []string{"a.json"}, url: "http://env", wait: 3 * time.Second, ok: true},
		{name: "the flag wins over the environment", args: []string{"--url=http://flag"}, env: map[string]string{"VERDICT_TEST_URL": "http://env"},
			url: "http://flag", wait: time.Second, ok: true},
		{name: "an empty variable is unset", args: nil, env: map[string]string{"VERDICT_TEST_URL": ""}, url: "http://x", wait: time.Second, ok: true},
		{name: "a bad variable names itself", env: map[string]string{"VERDICT_TEST_WAIT": "soon"}, code: ExitUsage,
			stderr: "verdict thing do: VERDICT_TEST_WAIT (for --wait): "},
		{name: "--help", args: []string{"a.json", "--help"}, code: ExitOK, stdout: "Usage: verdict thing do FILE... [flags]"},
		{name: "-h", args: []string{"-h"}, code: ExitOK, stdout: "Usage: verdict thing do FILE... [flags]"},
		{name: "unknown flag", args: []string{"--nope"}, code: ExitUsage,
			stderr: "verdict thing do: unknown flag --nope\nRun 'verdict thing do --help' for usage.\n"},
		{name: "missing value", args: []string{"--url"}, code: ExitUsage, stderr: "flag --url needs a value"},
		{name: "bad value", args: []string{"--wait", "x"}, code: ExitUsage, stderr: `invalid value "x" for flag --wait`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, v := range []string{"VERDICT_TEST_URL", "VERDICT_TEST_WAIT"} {
				t.Setenv(v, tc.env[v])
			}
			c, url, wait, verbose := cmd()
			var out, errOut bytes.Buffer
			pos, code, ok := c.Parse(tc.args, &out, &errOut)
			if ok != tc.ok || code != tc.code {
				t.Fatalf("ok %v code %d, want ok %v code %d (stderr %q)", ok, code, tc.ok, tc.code, errOut.String())
			}
			if ok && (!reflect.DeepEqual(pos, tc.pos) || *url != tc.url || *wait != tc.wait || *verbose != tc.verbose) {
				t.Errorf("pos %q url %q wait %v v %v; want %q %q %v %v", pos, *url, *wait, *verbose, tc.pos, tc.url, tc.wait, tc.verbose)
			}
			check := func(name, got, want string) {
				if want == "" && got != "" {
					t.Errorf("%s: want nothing, got %q", name, got)
				}
				if !strings.Contains(got, want) {
					t.Errorf("%s: %q does not contain %q", name, got, want)
				}
			}
			check("stdout", out.String(), tc.stdout)
			check("stderr", errOut.String(), tc.stderr)
		})
	}
}

func TestHelpFormat(t *testing.T) {
	c, _, _, _ := cmd()
	var b bytes.Buffer
	c.PrintHelp(&b)
	want := `Usage: verdict thing do FILE... [flags]

Does the thing.

Flags:
  --url URL
      base URL (default http://x; env VERDICT_TEST_URL)
  --v
      verbose
  --wait duration
      how long (default 1s; env VERDICT_TEST_WAIT)

Examples:
  verdict thing do a.json
`
	if b.String() != want {
		t.Errorf("help:\n%s\nwant:\n%s", b.String(), want)
	}
}

func TestGroup(t *testing.T) {
	var got []string
	sub := func(ctx context.Context, args []string, stdout, stderr io.Writer) int {
		got = args
		return 7
	}
	g := &Group{Name: "thing", Doc: "Things.", Subs: []Sub{{Name: "do", Summary: "do it", Run: sub}}, Examples: []string{"verdict thing do"}}
	for _, tc := range []struct {
		args           []string
		code           int
		stdout, stderr string // substrings; "" must be empty
		subArgs        []string
	}{
		{args: nil, code: ExitUsage, stderr: "Usage: verdict thing COMMAND"},
		{args: []string{"--help"}, code: ExitOK, stdout: "Commands:\n  do  do it\n"},
		{args: []string{"-h"}, code: ExitOK, stdout: "Usage: verdict thing COMMAND"},
		{args: []string{"help"}, code: ExitOK, stdout: "Examples:\n  verdict thing do\n"},
		{args: []string{"help", "do"}, code: 7, subArgs: []string{"--help"}},
		{args: []string{"do", "x", "--y"}, code: 7, subArgs: []string{"x", "--y"}},
		{args: []string{"nope"}, code: ExitUsage, stderr: "verdict thing: unknown command \"nope\"\nRun 'verdict thing --help' for the list of commands.\n"},
		{args: []string{"--nope"}, code: ExitUsage, stderr: "verdict thing: unknown flag \"--nope\""},
	} {
		got = nil
		var out, errOut bytes.Buffer
		code := g.Run(context.Background(), tc.args, &out, &errOut)
		if code != tc.code || !reflect.DeepEqual(got, tc.subArgs) {
			t.Errorf("%q: code %d args %q, want %d %q", tc.args, code, got, tc.code, tc.subArgs)
		}
		for _, s := range []struct{ name, got, want string }{{"stdout", out.String(), tc.stdout}, {"stderr", errOut.String(), tc.stderr}} {
			if (s.want == "" && s.got != "") || !strings.Contains(s.got, s.want) {
				t.Errorf("%q %s: %q, want %q", tc.args, s.name, s.got, s.want)
			}
		}
	}
}

func TestProgressPlainLines(t *testing.T) {
	var b bytes.Buffer // not a terminal
	p := NewProgress(&b, "demo")
	for done := int64(0); done <= 100; done += 5 {
		p.Count(done, 100)
	}
	p.Done()
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if strings.Contains(b.String(), "\r") || len(lines) != 11 || lines[0] != "demo 0% 0/100" || lines[10] != "demo 100% 100/100" {
		t.Errorf("plain progress: %q", b.String())
	}
}

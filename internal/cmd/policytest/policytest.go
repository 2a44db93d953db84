// Package policytest is `verdict policy test [DIR...]`: it runs the Rego
// tests (test_ rules) under DIR (default: the built-in policies embedded in
// the binary) through OPA's tester, prints each failure, and reports coverage
// of the policies under test. With --threshold it fails when coverage is
// lower.
package policytest

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/cover"
	"github.com/open-policy-agent/opa/v1/storage/inmem"
	"github.com/open-policy-agent/opa/v1/tester"
	"github.com/verdict-pdp/verdict/internal/cmd/cliflag"
	"github.com/verdict-pdp/verdict/internal/policyload"
	"github.com/verdict-pdp/verdict/policies"
)

// Group returns `verdict policy`.
func Group() *cliflag.Group {
	return &cliflag.Group{
		Name: "policy",
		Doc:  "Tools for policy authors.",
		Subs: []cliflag.Sub{{Name: "test", Summary: "run Rego tests (opa test semantics) and report policy coverage", Run: Test}},
	}
}

// Run runs `verdict policy`.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return Group().Run(ctx, args, stdout, stderr)
}

// Test runs `verdict policy test`.
func Test(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c := cliflag.New("policy test", "[DIR...] [--policy-dir DIR]... [--threshold PCT] [-v]",
		`Runs the Rego tests (test_* rules) of DIR... (default: the built-in policies embedded in
the binary) through OPA's tester, the way "opa test" does, and reports the coverage of the
policies (test files excluded). Prints each failure and a summary; exits 1 when a test
fails or coverage is below --threshold.`,
		"verdict policy test",
		"verdict policy test policies --threshold 90",
		"verdict policy test --policy-dir examples/extensions -v")
	threshold := c.Float64("threshold", 0, "fail when coverage is below this `PCT` (percent)")
	verbose := c.Bool("v", false, "list every test and the uncovered lines")
	var ext []string
	c.Func("policy-dir", "extension policies under `DIR` to test with the built-in ones (repeatable)", func(v string) error { ext = append(ext, v); return nil })
	dirs, code, ok := c.Parse(args, stdout, stderr)
	if !ok {
		return code
	}
	files, err := load(dirs)
	// Extensions compile against the built-in policies: with --policy-dir,
	// the embedded ones (if DIR did not already name them) and the extensions.
	var extra []map[string]string
	if err == nil && len(ext) > 0 && len(dirs) > 0 {
		var builtin map[string]string
		builtin, err = load(nil)
		extra = append(extra, builtin)
	}
	if err == nil && len(ext) > 0 {
		var more map[string]string
		more, err = load(ext)
		extra = append(extra, more)
	}
	for _, m := range extra {
		for k, v := range m {
			files[k] = v
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "verdict policy test: %v\n", err)
		return 2
	}
	mods := map[string]*ast.Module{}
	for name, src := range files {
		m, err := ast.ParseModuleWithOpts(name, src, ast.ParserOptions{RegoVersion: ast.RegoV1})
		if err != nil {
			fmt.Fprintf(stderr, "verdict policy test: %v\n", err)
			return 2
		}
		mods[name] = m
	}
	// Extension data (data.json files) loads the way `opa run DIR` loads it.
	data := map[string]any{}
	if len(ext) > 0 {
		set, err := policyload.Load(ext, true)
		if err != nil {
			fmt.Fprintf(stderr, "verdict policy test: %v\n", err)
			return 2
		}
		data = set.Data
	}
	cov := cover.New()
	runner := tester.NewRunner().
		SetCompiler(ast.NewCompiler().WithEnablePrintStatements(true)).
		SetStore(inmem.NewFromObject(data)).
		CapturePrintOutput(true).
		SetCoverageQueryTracer(cov).
		SetModules(mods)
	ch, err := runner.RunTests(ctx, nil)
	if err != nil {
		fmt.Fprintf(stderr, "verdict policy test: %v\n", err)
		return 2
	}
	pass, fail := 0, 0
	for r := range ch {
		switch {
		case r.Error != nil:
			fail++
			fmt.Fprintf(stdout, "ERROR %s.%s (%s): %v\n", r.Package, r.Name, r.Location, r.Error)
		case r.Fail:
			fail++
			fmt.Fprintf(stdout, "FAIL  %s.%s (%s)\n", r.Package, r.Name, r.Location)
			if len(r.Output) > 0 {
				fmt.Fprintf(stdout, "      %s\n", strings.TrimSpace(string(r.Output)))
			}
		case r.Skip:
		default:
			pass++
			if *verbose {
				fmt.Fprintf(stdout, "PASS  %s.%s\n", r.Package, r.Name)
			}
		}
	}
	// Coverage counts the policies, not the tests that exercise them.
	policyMods := map[string]*ast.Module{}
	for name, m := range mods {
		if !strings.HasSuffix(name, "_test.rego") {
			policyMods[name] = m
		}
	}
	rep := cov.Report(policyMods)
	names := make([]string, 0, len(rep.Files))
	covered, notCovered := 0, 0
	for n, f := range rep.Files {
		// The report counts files the tracer saw, tests included: keep the
		// policies only.
		if _, ok := policyMods[n]; ok {
			names = append(names, n)
			covered += f.CoveredLines
			notCovered += f.NotCoveredLines
		}
	}
	sort.Strings(names)
	total := 0.0
	if covered+notCovered > 0 {
		total = 100 * float64(covered) / float64(covered+notCovered)
	}
	for _, n := range names {
		f := rep.Files[n]
		fmt.Fprintf(stdout, "coverage %6.2f%%  %s\n", f.Coverage, n)
		if *verbose {
			for _, r := range f.NotCovered {
				fmt.Fprintf(stdout, "    not covered: lines %d-%d\n", r.Start.Row, r.End.Row)
			}
		}
	}
	fmt.Fprintf(stdout, "coverage %6.2f%%  total (%d of %d lines)\n", total, covered, covered+notCovered)
	fmt.Fprintf(stdout, "%d passed, %d failed\n", pass, fail)
	if fail > 0 {
		return 1
	}
	if *threshold > 0 && total < *threshold {
		fmt.Fprintf(stdout, "coverage %.2f%% is below the threshold %.2f%%\n", total, *threshold)
		return 1
	}
	return 0
}

// load reads every .rego file under dirs, or the embedded policies.
func load(dirs []string) (map[string]string, error) {
	out := map[string]string{}
	if len(dirs) == 0 {
		err := fs.WalkDir(policies.FS(), ".", func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(p, ".rego") {
				return err
			}
			b, err := fs.ReadFile(policies.FS(), p)
			out["policies/"+p] = string(b)
			return err
		})
		return out, err
	}
	for _, dir := range dirs {
		err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(p, ".rego") {
				return err
			}
			b, err := os.ReadFile(p)
			out[p] = string(b)
			return err
		})
		if err != nil {
			return nil, err
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no .rego files under %s", strings.Join(dirs, ", "))
	}
	return out, nil
}

// Package check is `verdict check FILE... [--url URL]`: it replays decision
// corpora (DESIGN.md §4) in-process, with each corpus's own org documents, or
// against a running PDP over HTTP, and prints every failure and a last line
// "N passed, N failed". It exits 1 on any failure and 2 on a usage or input
// error.
package check

import (
	"context"
	"flag"
	"fmt"
	"github.com/verdict-pdp/verdict/internal/cmd/cliflag"
	"io"
	"os"

	"github.com/verdict-pdp/verdict/internal/conformance"
	"github.com/verdict-pdp/verdict/internal/engine"
	"github.com/verdict-pdp/verdict/internal/orgdoc"
	"github.com/verdict-pdp/verdict/internal/policyload"
)

// Run runs the command.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	url := fs.String("url", "", "replay against a running PDP at this base URL instead of in-process")
	token := fs.String("token", os.Getenv("VERDICT_TOKEN"), "bearer token for --url (env VERDICT_TOKEN)")
	var dirs []string
	fs.Func("policy-dir", "extension policies (repeatable)", func(v string) error { dirs = append(dirs, v); return nil })
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: verdict check FILE... [--url URL]")
		fs.PrintDefaults()
	}
	files, err := cliflag.Parse(fs, args)
	if err != nil {
		return 2
	}
	if len(files) == 0 {
		fs.Usage()
		return 2
	}
	set, err := policyload.Load(dirs, false)
	if err != nil {
		fmt.Fprintf(stderr, "verdict check: %v\n", err)
		return 2
	}
	eng, err := engine.New(ctx, engine.Config{Modules: set.Modules, Data: set.Data})
	if err != nil {
		fmt.Fprintf(stderr, "verdict check: %v\n", err)
		return 2
	}
	total := conformance.Result{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			fmt.Fprintf(stderr, "verdict check: %v\n", err)
			return 2
		}
		corpus, err := orgdoc.DecodeCorpus(data)
		if err != nil {
			fmt.Fprintf(stderr, "verdict check: %s: %v\n", f, err)
			return 2
		}
		var d conformance.Decider
		if *url != "" {
			// The PDP holds its own facts: the corpus's orgs must have been
			// imported into it (verdict import, or PUT /admin/v1/orgs/{org}).
			d = conformance.NewRemote(*url, *token)
		} else if d, err = conformance.NewLocal(eng, corpus.Orgs); err != nil {
			fmt.Fprintf(stderr, "verdict check: %v\n", err)
			return 2
		}
		res := conformance.Run(ctx, corpus, d)
		for i := range res.Failures {
			res.Failures[i].Name = f + ": " + res.Failures[i].Name
		}
		total.Passed += res.Passed
		total.Failures = append(total.Failures, res.Failures...)
	}
	conformance.Report(stdout, total)
	if len(total.Failures) > 0 {
		return 1
	}
	return 0
}

// Package check is `verdict check FILE... [--url URL]`: it replays decision
// corpora (DESIGN.md §4) in-process, with each corpus's own org documents, or
// against a running PDP over HTTP, and prints every failure and a last line
// "N passed, N failed". It exits 1 on any failure and 2 on a usage or input
// error.
package check

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/verdict-pdp/verdict/client"
	"github.com/verdict-pdp/verdict/internal/cmd/cliflag"
	"github.com/verdict-pdp/verdict/internal/conformance"
	"github.com/verdict-pdp/verdict/internal/engine"
	"github.com/verdict-pdp/verdict/internal/orgdoc"
	"github.com/verdict-pdp/verdict/internal/policyload"
)

// Run runs the command.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c := cliflag.New("check", "FILE... [--url URL] [flags]",
		`Replays decision corpora (orgs, evaluations, filters; DESIGN.md §4): in-process with each
corpus's own org documents, or against a running PDP with --url (the corpus's orgs must have
been imported into it). Prints every failure and a last line "N passed, N failed"; exits 1 on
any failure, 2 on a usage or input error.`,
		"verdict check data/demo.json",
		"verdict check test/corpus/*.json --policy-dir examples/extensions",
		"verdict check data/demo.json --url http://127.0.0.1:8181",
		"VERDICT_TOKEN=$(cat token) verdict check data/demo.json --url https://pdp.example.com")
	url := c.String("url", "", "replay against a running PDP at this base `URL` instead of in-process")
	token := c.String("token", "", "caller bearer `TOKEN` sent with --url")
	c.Env("token", "VERDICT_TOKEN")
	tlsFiles := cliflag.ClientTLS(c)
	var dirs []string
	c.Func("policy-dir", "extension policies: every .rego and data.json under `DIR` (repeatable)", func(v string) error { dirs = append(dirs, v); return nil })
	files, code, ok := c.Parse(args, stdout, stderr)
	if !ok {
		return code
	}
	if len(files) == 0 {
		return c.Fail(stderr, "give at least one corpus FILE")
	}
	remoteCfg := client.Config{BaseURL: *url}
	if *token != "" {
		remoteCfg.Tokens = client.StaticToken(*token)
	}
	var err error
	if remoteCfg.TLS, err = tlsFiles(); err != nil {
		return c.Fail(stderr, "%v", err)
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
	var hints []func()
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return c.Fail(stderr, "%v", err)
		}
		corpus, err := orgdoc.DecodeCorpus(data)
		if err != nil {
			fmt.Fprintf(stderr, "verdict check: %s: %v\n", f, err)
			return 2
		}
		var d conformance.Decider
		var remote *conformance.Remote
		if *url != "" {
			// The PDP holds its own facts: the corpus's orgs must have been
			// imported into it (verdict import, or PUT /admin/v1/orgs/{org}).
			remote = conformance.NewRemoteWith(remoteCfg)
			if err := remote.Err(); err != nil {
				return c.Fail(stderr, "--url: %v", err)
			}
			d = remote
		} else if d, err = conformance.NewLocal(eng, corpus.Orgs); err != nil {
			fmt.Fprintf(stderr, "verdict check: %v\n", err)
			return 2
		}
		res := conformance.Run(ctx, corpus, d)
		if remote != nil {
			// Orgs the corpus defines (and its org-less requests, meant for
			// the server's default org) that the server answered only
			// unknown_org about: it does not hold them. Said on stderr, so
			// the last line of stdout stays "N passed, N failed".
			t := remote.Tally()
			hints = append(hints, func() { conformance.HintUnknownOrgs(stderr, *url, f, t, t.Unknown(corpusOrgs(corpus))) })
		}
		for i := range res.Failures {
			res.Failures[i].Name = f + ": " + res.Failures[i].Name
		}
		total.Passed += res.Passed
		total.Failures = append(total.Failures, res.Failures...)
	}
	conformance.Report(stdout, total)
	for _, h := range hints {
		h()
	}
	if len(total.Failures) > 0 {
		return 1
	}
	return 0
}

// corpusOrgs are the orgs a corpus defines, and "" (its requests without
// context.org are meant for the server's default org).
func corpusOrgs(c *orgdoc.Corpus) []string {
	out := []string{""}
	for i := range c.Orgs {
		out = append(out, c.Orgs[i].Org)
	}
	return out
}

// Package bundlecmd is `verdict bundle`: it builds an org's signed OPA
// bundle (policies scoped to the org plus its data snapshot) from Redis or
// from a document, and inspects bundles. See docs/bundles.md.
package bundlecmd

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/verdict-pdp/verdict/internal/bundle"
	"github.com/verdict-pdp/verdict/internal/orgdoc"
	"github.com/verdict-pdp/verdict/internal/policyload"
	"github.com/verdict-pdp/verdict/internal/store"
)

const usage = `usage:
  verdict bundle build --org ORG [--env ENV] (--redis-url URL | --from FILE.json)
                       [--signing-key KEY.pem] [--policy-dir DIR]... [--out FILE.tar.gz]
  verdict bundle inspect FILE.tar.gz [--verification-key KEY.pem]
  verdict bundle serve --redis-url URL --signing-key KEY.pem [--addr ADDR] [--auth none]`

// Run runs the command.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, usage)
		return 2
	}
	switch args[0] {
	case "build":
		return build(ctx, args[1:], stdout, stderr)
	case "inspect":
		return inspect(args[1:], stdout, stderr)
	case "serve":
		return serveBundles(ctx, args[1:], stderr)
	}
	fmt.Fprintf(stderr, "verdict bundle: unknown subcommand %q\n%s\n", args[0], usage)
	return 2
}

type multi []string

func (m *multi) String() string     { return strings.Join(*m, ",") }
func (m *multi) Set(v string) error { *m = append(*m, v); return nil }

func build(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bundle build", flag.ContinueOnError)
	fs.SetOutput(stderr)
	org := fs.String("org", "", "the org to bundle (may be left out when --from holds one org)")
	env := fs.String("env", "", "keep only this environment of each project (default: all)")
	redisURL := fs.String("redis-url", os.Getenv("VERDICT_REDIS_URL"), "read the org from Redis (env VERDICT_REDIS_URL)")
	from := fs.String("from", "", "read the org from an org document or a corpus file instead")
	key := fs.String("signing-key", "", "sign with this PEM private key (RSA: RS256, ECDSA P-256: ES256)")
	out := fs.String("out", "", "output file (default bundles/ORG[-ENV].tar.gz)")
	var dirs multi
	fs.Var(&dirs, "policy-dir", "extension policies to include (repeatable)")
	fs.Usage = func() { fmt.Fprintln(stderr, usage); fs.PrintDefaults() }
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 || (*from == "") == (*redisURL == "") {
		if fs.NArg() == 0 {
			fmt.Fprintln(stderr, "verdict bundle build: give exactly one of --from and --redis-url")
		}
		fs.Usage()
		return 2
	}
	fail := func(code int, err error) int {
		fmt.Fprintf(stderr, "verdict bundle build: %v\n", err)
		return code
	}
	set, err := policyload.Load(dirs, false)
	if err != nil {
		return fail(2, err)
	}
	var signer *bundle.Signer
	if *key != "" {
		if signer, err = bundle.LoadSigner(*key); err != nil {
			return fail(2, err)
		}
	} else {
		fmt.Fprintln(stderr, "verdict bundle build: WARNING: no --signing-key: the bundle is unsigned and edges will refuse it")
	}
	start := time.Now()
	p := newProgress(stderr)
	p.step(bundle.Step{N: 0, Of: 4, Name: "reading", Detail: source(*from, *redisURL)})
	o, rev, err := readOrg(ctx, *org, *from, *redisURL)
	if err != nil {
		p.done()
		return fail(1, err)
	}
	b, err := bundle.Build(ctx, bundle.Spec{
		Org: o, Env: *env, Revision: rev, Signer: signer,
		Policies: bundle.Policies{Modules: set.Modules, Data: set.Data},
		Progress: p.step,
	})
	p.done()
	if err != nil {
		return fail(1, err)
	}
	path := *out
	if path == "" {
		name := o.Org
		if *env != "" && *env != bundle.AllEnvironments {
			name += "-" + *env
		}
		path = filepath.Join("bundles", name+".tar.gz")
	}
	if err := writeAtomic(path, b.Bytes); err != nil {
		return fail(1, err)
	}
	signed := "UNSIGNED"
	if signer != nil {
		signed = "signed " + signer.Alg()
	}
	fmt.Fprintf(stdout, "wrote %s: org %s, environment %s, revision %s, %s, %d bytes in %s\n",
		path, b.Org, b.Env, b.Revision, signed, len(b.Bytes), time.Since(start).Round(time.Millisecond))
	fmt.Fprintf(stdout, "stock OPA answers at POST /v1/data/verdict/orgs/%s/main/decision with {\"input\": <AuthZEN request>}\n", b.Org)
	return 0
}

func source(from, redisURL string) string {
	if from != "" {
		return from
	}
	return "Redis"
}

// readOrg reads the org and its revision ("" for documents: the bundle's
// content hash is used).
func readOrg(ctx context.Context, org, from, redisURL string) (*orgdoc.Org, string, error) {
	if from == "" {
		if org == "" {
			return nil, "", errors.New("--org is required with --redis-url")
		}
		st, err := store.Open(store.Config{URL: redisURL})
		if err != nil {
			return nil, "", err
		}
		defer st.Close()
		o, rev, err := st.GetOrg(ctx, org)
		if err != nil {
			return nil, "", err
		}
		return o, fmt.Sprint(rev), nil
	}
	raw, err := os.ReadFile(from)
	if err != nil {
		return nil, "", err
	}
	var probe map[string]json.RawMessage
	_ = json.Unmarshal(raw, &probe)
	var orgs []orgdoc.Org
	if _, ok := probe["orgs"]; ok {
		c, err := orgdoc.DecodeCorpus(raw)
		if err != nil {
			return nil, "", fmt.Errorf("%s: %w", from, err)
		}
		orgs = c.Orgs
	} else {
		o, err := orgdoc.DecodeOrg(raw)
		if err != nil {
			return nil, "", fmt.Errorf("%s: %w", from, err)
		}
		orgs = []orgdoc.Org{*o}
	}
	var ids []string
	for i := range orgs {
		if orgs[i].Org == org || (org == "" && len(orgs) == 1) {
			return &orgs[i], "", nil
		}
		ids = append(ids, orgs[i].Org)
	}
	if org == "" {
		return nil, "", fmt.Errorf("%s holds orgs %v: name one with --org", from, ids)
	}
	return nil, "", fmt.Errorf("%s holds no org %q (it holds %v)", from, org, ids)
}

// writeAtomic writes through a temporary file and a rename, so an edge
// reading the path never sees half a bundle.
func writeAtomic(path string, b []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".bundle-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

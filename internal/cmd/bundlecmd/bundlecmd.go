// Package bundlecmd is `verdict bundle`: it builds an org's signed OPA
// bundle (policies scoped to the org plus its data snapshot) from Redis or
// from a document, and inspects bundles. See docs/bundles.md.
package bundlecmd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/verdict-pdp/verdict/internal/bundle"
	"github.com/verdict-pdp/verdict/internal/cmd/cliflag"
	"github.com/verdict-pdp/verdict/internal/orgdoc"
	"github.com/verdict-pdp/verdict/internal/policyload"
	"github.com/verdict-pdp/verdict/internal/store"
)

// Group returns `verdict bundle`.
func Group() *cliflag.Group {
	return &cliflag.Group{
		Name: "bundle",
		Doc: `Signed OPA bundles of one org (policies plus its data snapshot) for edge PDPs and stock OPA:
build them, inspect them, serve them, and make the key pair that signs them. See
docs/bundles.md.`,
		Subs: []cliflag.Sub{
			{Name: "build", Summary: "build an org's signed bundle from Redis or from a document", Run: build},
			{Name: "inspect", Summary: "print a bundle's manifest and files; verify its signature", Run: inspectCmd},
			{Name: "serve", Summary: "serve /bundles/{org}/{env|all}.tar.gz from Redis, without the decision APIs", Run: serveBundles},
			{Name: "keygen", Summary: "write a new ECDSA P-256 key pair to sign and verify bundles", Run: keygen},
		},
		Examples: []string{
			"verdict bundle keygen --out-dir keys",
			"verdict bundle build --from data/demo.json --org demo --signing-key keys/signing.pem --out demo.tar.gz",
			"verdict bundle inspect demo.tar.gz --verification-key keys/verification.pem",
		},
	}
}

// Run runs the command.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return Group().Run(ctx, args, stdout, stderr)
}

type multi []string

func (m *multi) String() string     { return strings.Join(*m, ",") }
func (m *multi) Set(v string) error { *m = append(*m, v); return nil }

func build(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c := cliflag.New("bundle build", "--org ORG [--env ENV] (--redis-url URL | --from FILE.json) [--signing-key KEY.pem] [flags]",
		`Builds an org's bundle: the built-in (and --policy-dir) policies rewritten under the org, and
its data snapshot, signed with --signing-key (RS256 for RSA, ES256 for ECDSA P-256). Edges
refuse unsigned bundles. Steps are shown on stderr (redrawn on a terminal, a line each
otherwise); the last line on stdout names the file and how stock OPA queries it.`,
		"verdict bundle build --from data/demo.json --org demo --signing-key keys/signing.pem",
		"verdict bundle build --org acme --env prod --redis-url redis://127.0.0.1:6379 --signing-key keys/signing.pem --out acme-prod.tar.gz")
	org := c.String("org", "", "the `ORG` to bundle (may be left out when --from holds one org)")
	env := c.String("env", "", "keep only this environment `ENV` of each project (default: all)")
	redisURL := c.String("redis-url", "", "read the org from Redis at `URL`")
	c.Env("redis-url", "VERDICT_REDIS_URL")
	from := c.String("from", "", "read the org from an org document or a corpus `FILE` instead")
	key := c.String("signing-key", "", "sign with this PEM private `KEY` (RSA: RS256, ECDSA P-256: ES256)")
	c.Env("signing-key", "VERDICT_BUNDLE_SIGNING_KEY")
	out := c.String("out", "", "output `FILE` (default bundles/ORG[-ENV].tar.gz)")
	var dirs multi
	c.Var(&dirs, "policy-dir", "extension policies under `DIR` to include (repeatable)")
	pos, code, ok := c.Parse(args, stdout, stderr)
	if !ok {
		return code
	}
	if len(pos) > 0 {
		return c.Fail(stderr, "unexpected argument %q", pos[0])
	}
	if (*from == "") == (*redisURL == "") {
		return c.Fail(stderr, "give exactly one of --from and --redis-url")
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

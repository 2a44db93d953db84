package bundlecmd

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"

	"github.com/verdict-pdp/verdict/internal/bundle"
	"github.com/verdict-pdp/verdict/internal/cmd/cliflag"
)

// inspect prints a bundle's manifest and files and, with a key, whether its
// signature holds: what an operator checks before blaming an edge.
func inspectCmd(_ context.Context, args []string, stdout, stderr io.Writer) int {
	c := cliflag.New("bundle inspect", "FILE.tar.gz [--verification-key KEY.pem]",
		`Prints a bundle's manifest (revision, roots, org, environment, policy revision), its
policy files and the query stock OPA answers at, as JSON. With --verification-key the
signature is verified first: a bundle that fails is REFUSED (exit 1), as an edge would.`,
		"verdict bundle inspect bundles/demo.tar.gz",
		"verdict bundle inspect bundles/demo.tar.gz --verification-key keys/verification.pem")
	keyPath := c.String("verification-key", "", "verify the signature with this PEM public `KEY`")
	c.Env("verification-key", "VERDICT_VERIFICATION_KEY")
	files, code, ok := c.Parse(args, stdout, stderr)
	if !ok {
		return code
	}
	if len(files) != 1 {
		return c.Fail(stderr, "give exactly one bundle FILE")
	}
	raw, err := os.ReadFile(files[0])
	if err != nil {
		fmt.Fprintf(stderr, "verdict bundle inspect: %v\n", err)
		return 2
	}
	var key *bundle.VerificationKey
	if *keyPath != "" {
		k, err := bundle.LoadVerificationKey(*keyPath)
		if err != nil {
			fmt.Fprintf(stderr, "verdict bundle inspect: %v\n", err)
			return 2
		}
		key = &k
	}
	b, err := bundle.Read(raw, key)
	if err != nil {
		fmt.Fprintf(stderr, "verdict bundle inspect: %s: REFUSED: %v\n", files[0], err)
		return 1
	}
	m, _ := bundle.MetaOf(b.Manifest.Metadata)
	var mods []string
	for _, f := range b.Modules {
		mods = append(mods, f.Path)
	}
	sort.Strings(mods)
	out := map[string]any{
		"revision": b.Manifest.Revision, "roots": b.Manifest.Roots, "org": m.Org, "environment": m.Environment,
		"policy_revision": m.PolicyRevision, "modules": mods, "signed": len(b.Signatures.Signatures) > 0,
		"signature_verified": key != nil,
		"query":              "data.verdict.orgs[" + fmt.Sprintf("%q", m.Org) + "].main.decision",
		"opa_data_api":       "POST /v1/data/verdict/orgs/" + m.Org + "/main/decision",
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	_ = enc.Encode(out)
	return 0
}

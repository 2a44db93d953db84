package bundlecmd

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"

	"github.com/verdict-pdp/verdict/internal/bundle"
)

// inspect prints a bundle's manifest and files and, with a key, whether its
// signature holds: what an operator checks before blaming an edge.
func inspect(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bundle inspect", flag.ContinueOnError)
	fs.SetOutput(stderr)
	keyPath := fs.String("verification-key", "", "verify the signature with this PEM public key")
	var files []string
	for {
		if err := fs.Parse(args); err != nil {
			return 2
		}
		if fs.NArg() == 0 {
			break
		}
		files = append(files, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(files) != 1 {
		fmt.Fprintln(stderr, usage)
		return 2
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

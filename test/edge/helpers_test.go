// Package edge holds the end-to-end checks of edge PDPs: the differential
// test (central PDP on Redis, edge PDP on bundles and stock OPA on the same
// bundles give identical answers), the central PDP feeding an edge by long
// polling, and the container test (a FROM scratch image, a network cut, a
// restart from the persisted bundle).
package edge

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/verdict-pdp/verdict/internal/orgdoc"
	"github.com/verdict-pdp/verdict/internal/testutil/pdptest"
)

// root is the module root, seen from this package.
const root = "../.."

// corpora are the shared conformance corpora (beside the repository; absent
// in a user's clone), the demo data and the project's own corpora.
func corpora(t testing.TB) []string {
	t.Helper()
	shared, _ := filepath.Glob(filepath.Join(root, "..", "shared", "conformance", "*.json"))
	if len(shared) == 0 {
		t.Logf("skipping shared corpora: %s is absent (a user's clone)", filepath.Join(root, "..", "shared", "conformance"))
	}
	own, _ := filepath.Glob(filepath.Join(root, "test", "corpus", "*.json"))
	return append(append(shared, filepath.Join(root, "data", "demo.json")), own...)
}

func loadCorpus(t testing.TB, path string) *orgdoc.Corpus {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	c, err := orgdoc.DecodeCorpus(raw)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return c
}

// The evaluators and helpers shared with other end-to-end tests
// (test/random) live in internal/testutil/pdptest.
var (
	testLog      = pdptest.Log
	newKeys      = pdptest.NewKeys
	startEdge    = pdptest.StartEdge
	runOPA       = pdptest.RunOPA
	postJSON     = pdptest.PostJSON
	canonical    = pdptest.Canonical
	waitReady    = pdptest.WaitReady
	importOrgs   = pdptest.ImportOrgs
	freeAddr     = pdptest.FreeAddr
	startCentral = pdptest.StartCentral
)

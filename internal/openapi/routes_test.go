package openapi_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/verdict-pdp/verdict/data"
	"github.com/verdict-pdp/verdict/internal/cmd/edgecmd"
	"github.com/verdict-pdp/verdict/internal/cmd/serve"
	"github.com/verdict-pdp/verdict/internal/openapi"
	"github.com/verdict-pdp/verdict/internal/orgdoc"
	"github.com/verdict-pdp/verdict/internal/testutil/pdptest"
)

// excluded are the routes the API description leaves out on purpose, by
// path prefix, each with its reason. Nothing else may be missing.
var excluded = map[string]string{
	"/console": "the access console: server-rendered HTML pages and forms for people (session cookie, CSRF token), not an API",
}

func isExcluded(path string) bool {
	for p := range excluded {
		if path == p || strings.HasPrefix(path, p+"/") {
			return true
		}
	}
	return false
}

// TestRoutesDescribed: every route a real central PDP and a real edge
// register is an operation of the document they serve, and every operation
// of it is a route; the only exceptions are the documented exclusions.
func TestRoutesDescribed(t *testing.T) {
	t.Run("central", func(t *testing.T) {
		// --dev: the embedded store, and the console registered too (so the
		// exclusion is exercised, not assumed).
		cfg := serve.Config{Dev: true, Auth: "none", Addr: "127.0.0.1:0"}
		if err := cfg.Validate(); err != nil {
			t.Fatal(err)
		}
		srv, err := serve.Start(context.Background(), &cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(srv.Close)
		compare(t, srv.Routes(), openapi.Central(), openapi.CentralServer, true)
	})
	t.Run("edge", func(t *testing.T) {
		c, err := orgdoc.DecodeCorpus(data.Demo())
		if err != nil {
			t.Fatal(err)
		}
		keys := pdptest.NewKeys(t)
		files := pdptest.WriteBundles(t, c.Orgs, keys.Signer, t.TempDir())
		srv, err := edgecmd.Start(context.Background(), &edgecmd.Config{
			Addr: "127.0.0.1:0", Bundles: files, VerificationKey: keys.PubPath, Auth: "none",
		}, pdptest.Log())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(srv.Close)
		compare(t, srv.Routes(), openapi.Edge(), openapi.EdgeServer, false)
	})
}

var (
	ginParam  = regexp.MustCompile(`[:*][A-Za-z_]+`)
	specParam = regexp.MustCompile(`\{[A-Za-z_]+\}`)
)

// compare holds a server's routes and its document to each other. Paths
// compare with their parameters' names left out ({}): the document names
// parameters for readers (filter_id), Gin for handlers (id).
func compare(t *testing.T, routes gin.RoutesInfo, doc []byte, s openapi.Server, wantConsole bool) {
	t.Helper()
	if len(routes) < 10 {
		t.Fatalf("%d routes: the listing is broken", len(routes))
	}
	var d struct {
		Paths map[string]map[string]json.RawMessage
	}
	if err := json.Unmarshal(doc, &d); err != nil {
		t.Fatal(err)
	}
	described := map[string]string{} // "METHOD /path/{}" -> the document's path
	for p, item := range d.Paths {
		for m := range item {
			if m == "parameters" {
				continue
			}
			described[strings.ToUpper(m)+" "+specParam.ReplaceAllString(p, "{}")] = p
		}
	}
	served := map[string]bool{}
	console := 0
	for _, r := range routes {
		if isExcluded(r.Path) {
			console++
			continue
		}
		k := r.Method + " " + ginParam.ReplaceAllString(r.Path, "{}")
		served[k] = true
		if _, ok := described[k]; !ok {
			t.Errorf("%s serves %s %s: not in internal/openapi/openapi.yaml (add it, with x-verdict-servers naming %s)", s, r.Method, r.Path, s)
		}
	}
	if wantConsole && console == 0 {
		t.Errorf("no console route seen: the exclusion of %v is not exercised", excluded)
	}
	var missing []string
	for k, p := range described {
		if !served[k] {
			missing = append(missing, k+" ("+p+")")
		}
	}
	sort.Strings(missing)
	for _, m := range missing {
		t.Errorf("the %s document describes %s, which the %s server does not serve", s, m, s)
	}
}

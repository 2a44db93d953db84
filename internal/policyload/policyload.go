// Package policyload assembles the policy set a PDP runs: the built-in
// policies embedded in the binary plus extension policies from --policy-dir
// folders, loaded the way `opa run DIR` loads them (every .rego file, and
// every data.json as data at its folder's path).
//
// Extensions may add packages verdict.ext.<type> (decisions for their own
// resource types) and packages outside verdict.* (their helpers); a module in
// any other verdict.* package, or data under verdict/ or verdict_data/, would
// change the built-in decisions and is refused with its file and line.
//
// A Set is a plain value; Load reads the disk each time it is called.
package policyload

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/loader"
	"github.com/verdict-pdp/verdict/internal/verr"
	"github.com/verdict-pdp/verdict/policies"
)

// Set is a policy set: Rego modules by file name and data documents.
type Set struct {
	Modules map[string]string
	Data    map[string]any
	// Extension lists the extension files, for logs.
	Extension []string
}

// Load returns the built-in policies plus the extensions under dirs. With
// tests, _test.rego files of the extensions are included (policy test).
func Load(dirs []string, tests bool) (*Set, error) {
	builtin, err := policies.Builtin()
	if err != nil {
		return nil, err
	}
	set := &Set{Modules: builtin, Data: map[string]any{}}
	if len(dirs) == 0 {
		return set, nil
	}
	for _, d := range dirs {
		if st, err := os.Stat(d); err != nil || !st.IsDir() {
			return nil, verr.New(verr.InvalidInput, "policy-dir", "%s is not a folder", d)
		}
	}
	res, err := loader.NewFileLoader().WithRegoVersion(ast.RegoV1).Filtered(dirs, func(abs string, info os.FileInfo, depth int) bool {
		if info.IsDir() {
			return false
		}
		name := info.Name()
		switch {
		case strings.HasSuffix(name, "_test.rego"):
			return !tests
		case strings.HasSuffix(name, ".rego"), name == "data.json":
			return false
		}
		return true // everything else is ignored
	})
	if err != nil {
		return nil, verr.Wrap(verr.PolicyError, "policy-dir", err, "%v", err)
	}
	names := make([]string, 0, len(res.Modules))
	for name := range res.Modules {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		m := res.Modules[name]
		if err := checkPackage(name, m.Parsed); err != nil {
			return nil, err
		}
		key := "ext/" + filepath.ToSlash(name)
		set.Modules[key] = string(m.Raw)
		set.Extension = append(set.Extension, name)
	}
	for _, root := range []string{"verdict", "verdict_data"} {
		if _, ok := res.Documents[root]; ok {
			return nil, verr.New(verr.PolicyError, "policy-dir", "extension data must not be under %s/: it belongs to the built-in policies", root)
		}
	}
	set.Data = res.Documents
	return set, nil
}

// checkPackage refuses a module that would add rules to a built-in package.
func checkPackage(file string, m *ast.Module) error {
	path := m.Package.Path
	if len(path) < 2 {
		return nil
	}
	first, ok := path[1].Value.(ast.String)
	if !ok || string(first) != "verdict" {
		return nil
	}
	if len(path) >= 4 {
		if second, ok := path[2].Value.(ast.String); ok && string(second) == "ext" {
			return nil
		}
	}
	if strings.HasSuffix(file, "_test.rego") && len(path) >= 3 {
		// Tests may live beside the package they test (verdict.ext.x_test).
		if second, ok := path[2].Value.(ast.String); ok && strings.HasPrefix(string(second), "ext") {
			return nil
		}
	}
	row := 0
	if m.Package.Location != nil {
		row = m.Package.Location.Row
	}
	return verr.New(verr.PolicyError, fmt.Sprintf("%s:%d", file, row),
		"package %s is reserved for the built-in policies: extensions use verdict.ext.<type> or a package outside verdict", path)
}

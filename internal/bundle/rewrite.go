package bundle

import (
	"fmt"
	"sort"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/format"
	"github.com/verdict-pdp/verdict/internal/verr"
)

// Roots a bundle of org owns. Bundles of different orgs never share a root,
// so one OPA (an edge or a stock `opa run`) can hold any number of orgs.
func Roots(org string) []string {
	return []string{"verdict/orgs/" + org, "verdict_data/orgs/" + org}
}

// extPkg is where an org's extension packages that live outside verdict.*
// (helpers, and data.json documents beside them) are moved: a package
// `helpers` of org acme becomes verdict.orgs.acme.extpkg.helpers. Without the
// move, two orgs' bundles would both claim data.helpers.
const extPkg = "extpkg"

// DataPath maps a data path as the policies were written ("verdict/main/
// decision", "helpers/x") to where org's bundle holds it
// ("verdict/orgs/<org>/main/decision", "verdict/orgs/<org>/extpkg/helpers/x").
// Paths under verdict_data are not policy paths: ok is false for them and for
// the empty path.
func DataPath(org, path string) (string, bool) {
	path = strings.Trim(path, "/")
	first, rest, _ := strings.Cut(path, "/")
	switch first {
	case "", "verdict_data":
		return "", false
	case "verdict":
		return strings.TrimSuffix("verdict/orgs/"+org+"/"+rest, "/"), true
	}
	return "verdict/orgs/" + org + "/" + extPkg + "/" + path, true
}

// prefix is data.verdict.orgs[org], the package root of org's policies.
func prefix(org string) ast.Ref {
	return ast.Ref{ast.DefaultRootDocument, ast.InternedTerm("verdict"), ast.InternedTerm("orgs"), ast.StringTerm(org)}
}

// rewriteRef moves a reference to data the way the module packages move:
// data.verdict.X -> data.verdict.orgs[org].X, data.P -> data.verdict.orgs[org]
// .extpkg.P; data.verdict_data is left alone (the bundle's data keeps the org
// key the policies already index by). Other refs (input, locals) are
// untouched. A reference whose first segment is not a constant cannot be
// moved and is refused: it could reach any org's documents.
func rewriteRef(org string, r ast.Ref) (ast.Ref, error) {
	if !r[0].Equal(ast.DefaultRootDocument) {
		return r, nil
	}
	if len(r) < 2 {
		return nil, fmt.Errorf("a reference to the whole of data cannot be scoped to one org")
	}
	first, ok := r[1].Value.(ast.String)
	if !ok {
		return nil, fmt.Errorf("reference %v: the first segment under data must be a constant", r)
	}
	switch first {
	case "verdict_data":
		return r, nil
	case "verdict":
		return append(prefix(org), r[2:]...), nil
	}
	return append(append(prefix(org), ast.InternedTerm(extPkg)), r[1:]...), nil
}

// Module is one rewritten policy module.
type Module struct {
	Path   string // file path inside the bundle
	Raw    []byte // formatted source, what the bundle carries and signs
	Parsed *ast.Module
}

// RewriteModules moves every module of a policy set under org's root: package,
// imports and every reference to data (see rewriteRef), then formats it as
// Rego v1 and parses the result again, so what the bundle carries is exactly
// what OPA will read. Files come back in path order.
func RewriteModules(org string, modules map[string]string) ([]Module, error) {
	names := make([]string, 0, len(modules))
	for n := range modules {
		names = append(names, n)
	}
	sort.Strings(names)
	popts := ast.ParserOptions{RegoVersion: ast.RegoV1, ProcessAnnotation: true}
	out := make([]Module, 0, len(names))
	for _, name := range names {
		m, err := ast.ParseModuleWithOpts(name, modules[name], popts)
		if err != nil {
			return nil, verr.Wrap(verr.PolicyError, name, err, "%v", err)
		}
		if err := scope(org, m); err != nil {
			return nil, verr.Wrap(verr.PolicyError, name, err, "cannot scope to org %q: %v", org, err)
		}
		raw, err := format.AstWithOpts(m, format.Opts{RegoVersion: ast.RegoV1})
		if err != nil {
			return nil, verr.Wrap(verr.PolicyError, name, err, "formatting: %v", err)
		}
		path := "verdict/orgs/" + org + "/" + strings.TrimPrefix(name, "/")
		parsed, err := ast.ParseModuleWithOpts(path, string(raw), popts)
		if err != nil {
			// The formatter wrote something the parser refuses (it would be
			// a bug of ours or of OPA's): never ship it.
			return nil, verr.Wrap(verr.PolicyError, name, err, "rewritten module does not parse: %v", err)
		}
		out = append(out, Module{Path: path, Raw: raw, Parsed: parsed})
	}
	return out, nil
}

// scope rewrites m in place: its package and every reference to data. It
// walks terms rather than using ast.TransformRefs, which does not descend
// into `some x in <ref>` declarations.
func scope(org string, m *ast.Module) error {
	var err error
	if m.Package.Path, err = rewriteRef(org, m.Package.Path); err != nil {
		return err
	}
	ast.WalkTerms(m, func(t *ast.Term) bool {
		r, ok := t.Value.(ast.Ref)
		if !ok || err != nil {
			return err != nil
		}
		var nr ast.Ref
		if nr, err = rewriteRef(org, r); err == nil {
			t.Value = nr
		}
		// Descend: the new reference's dynamic parts may hold references too.
		return false
	})
	return err
}

package engine

import (
	"strconv"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/verdict-pdp/verdict/internal/verr"
)

// DefaultDataPathsMax bounds the prepared queries of OPA's data API kept per
// policy set, unless configured otherwise (--data-paths-max).
const DefaultDataPathsMax = 512

// DataPath is where OPA's data API request for a path is answered from.
//
// A path is known when the loaded policies or data define it: it names a
// rule, a package or a prefix of one (its document), or goes below a rule or
// a base document (then the rest is a lookup into that value: a member of an
// object, an element of an array by index). Key is what is evaluated (and
// prepared once, in a bounded cache); Rest is looked up in its value.
// Anything else is unknown: NotFound, and nothing is compiled or kept for it.
// The set of keys is finite and fixed by the policies, whatever callers send.
type DataPath struct {
	Key, Rest []string
}

// ResolveDataPath resolves a slash-separated data path against a compiler's
// rule tree. roots are refs below data that are values although no rule
// defines them (resolvers: data.verdict_data.orgs); base reports whether a
// base document (a data.json) exists at a path.
func ResolveDataPath(tree *ast.TreeNode, roots [][]string, base func(path []string) bool, path string) (DataPath, error) {
	segs := SplitDataPath(path)
	for _, r := range roots {
		if hasPrefix(segs, r) {
			return DataPath{Key: r, Rest: segs[len(r):]}, nil
		}
		if hasPrefix(r, segs) {
			return DataPath{Key: segs}, nil
		}
	}
	var node *ast.TreeNode
	if tree != nil {
		node = tree.Child(ast.DefaultRootDocument.Value)
	}
	for i, s := range segs {
		var child *ast.TreeNode
		if node != nil {
			child = node.Child(ast.String(s))
		}
		if child == nil {
			if base != nil && base(segs[:i+1]) {
				return DataPath{Key: segs[:i+1], Rest: segs[i+1:]}, nil
			}
			return DataPath{}, verr.New(verr.NotFound, "path", "no policy or data document defines data.%s", strings.Join(segs[:i+1], "."))
		}
		if len(child.Values) > 0 {
			return DataPath{Key: segs[:i+1], Rest: segs[i+1:]}, nil
		}
		node = child
	}
	return DataPath{Key: segs}, nil
}

// SplitDataPath splits a data API path into its segments ("" and slashes
// around them ignored).
func SplitDataPath(path string) []string {
	var segs []string
	for _, s := range strings.Split(strings.Trim(path, "/"), "/") {
		if s != "" {
			segs = append(segs, s)
		}
	}
	return segs
}

// Lookup reads rest in v (a value of a rule or base document, as rego
// returns it): an object's member, an array's element by index. found is
// false when nothing is there (the document is undefined).
func Lookup(v any, rest []string) (any, bool) {
	for _, s := range rest {
		switch x := v.(type) {
		case map[string]any:
			var ok bool
			if v, ok = x[s]; !ok {
				return nil, false
			}
		case []any:
			i, err := strconv.Atoi(s)
			if err != nil || i < 0 || i >= len(x) {
				return nil, false
			}
			v = x[i]
		default:
			return nil, false
		}
	}
	return v, true
}

// inData reports whether a base document exists at path in data.
func inData(data map[string]any, path []string) bool {
	var v any = data
	for _, s := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return false
		}
		if v, ok = m[s]; !ok {
			return false
		}
	}
	return true
}

func hasPrefix(s, prefix []string) bool {
	if len(prefix) > len(s) {
		return false
	}
	for i := range prefix {
		if s[i] != prefix[i] {
			return false
		}
	}
	return true
}

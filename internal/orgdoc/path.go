package orgdoc

import (
	"sort"
	"strconv"
)

// JSON paths in errors read like the document: orgs[0].users[3].status.
// Keys that are not plain identifiers (a group "Back office" used as a map
// key, say) are quoted, orgs[0]...swimlanes.lane["Back office"], so a path is
// never ambiguous.

// field appends a struct field name (always a plain identifier) to path.
func field(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// index appends a list index to path.
func index(path string, i int) string {
	return path + "[" + strconv.Itoa(i) + "]"
}

// key appends an object key to path, quoting it unless it is plain.
func key(path, k string) string {
	if plainKey(k) {
		return field(path, k)
	}
	return path + "[" + strconv.Quote(k) + "]"
}

// plainKey reports whether k can be written after a dot without ambiguity.
func plainKey(k string) bool {
	if k == "" {
		return false
	}
	for _, r := range k {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == '-':
		default:
			return false
		}
	}
	return true
}

// loc is a path built lazily while decoding: most values decode fine, so
// the string is only rendered for an error. nil is the document root.
type loc struct {
	parent *loc
	key    string // object key, when idx < 0
	idx    int    // list index, or -1
}

func (l *loc) child(k string) *loc { return &loc{parent: l, key: k, idx: -1} }
func (l *loc) elem(i int) *loc     { return &loc{parent: l, idx: i} }

// String renders the path ("" for the root).
func (l *loc) String() string {
	if l == nil {
		return ""
	}
	if l.idx >= 0 {
		return index(l.parent.String(), l.idx)
	}
	return key(l.parent.String(), l.key)
}

// sortedKeys returns a map's keys in order, so the "first" problem found in
// a map is the same on every run (Go randomizes map iteration).
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

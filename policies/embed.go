// Package policies embeds the built-in Rego policies of Verdict, so that the
// binary decides with exactly the policies it was built with. Tests
// (_test.rego) are embedded too, for `verdict policy test`, but Builtin
// leaves them out.
package policies

import (
	"embed"
	"io/fs"
	"strings"
)

//go:embed */*.rego
var files embed.FS

// FS is every embedded .rego file, tests included, at paths like "ui/ui.rego".
func FS() fs.FS { return files }

// Builtin returns the built-in policy modules (no tests), by file path.
func Builtin() (map[string]string, error) {
	out := map[string]string{}
	err := fs.WalkDir(files, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".rego") || strings.HasSuffix(path, "_test.rego") {
			return err
		}
		b, err := files.ReadFile(path)
		if err != nil {
			return err
		}
		out["policies/"+path] = string(b)
		return nil
	})
	return out, err
}

// File returns one embedded policy file, e.g. "filters/sql.rego".
func File(path string) (string, error) {
	b, err := files.ReadFile(path)
	return string(b), err
}

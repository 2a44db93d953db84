package main

import (
	"embed"
	"io/fs"
	"strings"
)

// The hand-written policy (handwritten/, its tests left out): what an OPA
// user would write for the mixes' decisions. Stock OPA serves it at
// handPath, on the same data as Verdict's bundle.
//
//go:embed handwritten/*.rego
var handFS embed.FS

const handPath = "handwritten/decision"

// handModules returns the policy's modules by file name, tests left out.
func handModules() (map[string]string, error) {
	out := map[string]string{}
	err := fs.WalkDir(handFS, "handwritten", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasSuffix(path, "_test.rego") {
			return err
		}
		b, err := handFS.ReadFile(path)
		out[path] = string(b)
		return err
	})
	return out, err
}

package openapi

import (
	"bytes"
	"flag"
	"os"
	"testing"
)

var update = flag.Bool("update", false, "rewrite docs/openapi.md from openapi.yaml")

const docFile = "../../docs/openapi.md"

// TestDoc keeps docs/openapi.md equal to the rendering of the description
// (go test ./internal/openapi -run TestDoc -update rewrites it).
func TestDoc(t *testing.T) {
	got, err := Markdown(Central())
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"### POST `/v1/filters/{filter_id}`", "### GET `/bundles/{org}/{bundle}.tar.gz`",
		"| `user` | string |", "### Error"} {
		if !bytes.Contains(got, []byte(want)) {
			t.Errorf("the rendering lacks %q", want)
		}
	}
	if *update {
		if err := os.WriteFile(docFile, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	have, err := os.ReadFile(docFile)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(have, got) {
		t.Errorf("docs/openapi.md differs from internal/openapi/openapi.yaml: run go test ./internal/openapi -run TestDoc -update")
	}
}

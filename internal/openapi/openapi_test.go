package openapi

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

// TestDocumentValid: both documents are valid OpenAPI 3.1 as kin-openapi
// reads it (every $ref resolves, every path parameter is declared,
// examples and defaults fit their schemas).
func TestDocumentValid(t *testing.T) {
	for _, s := range []Server{CentralServer, EdgeServer} {
		b, err := Document(s)
		if err != nil {
			t.Fatal(err)
		}
		doc, err := openapi3.NewLoader().LoadFromData(b)
		if err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		if err := doc.Validate(context.Background()); err != nil {
			t.Errorf("%s: %v", s, err)
		}
		if !doc.IsOpenAPI31OrLater() {
			t.Errorf("%s: openapi %s, want 3.1", s, doc.OpenAPI)
		}
	}
}

// TestEdgeDocument: the edge's copy holds the decision APIs and no admin
// API nor bundles; every operation of either says who serves it.
func TestEdgeDocument(t *testing.T) {
	var central, edge struct {
		Paths map[string]map[string]json.RawMessage
	}
	if err := json.Unmarshal(Central(), &central); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(Edge(), &edge); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/access/v1/evaluation", "/v1/data/{path}", "/v1/manifest", "/ready", "/openapi.json"} {
		if edge.Paths[p] == nil {
			t.Errorf("the edge's document lacks %s", p)
		}
	}
	for p := range edge.Paths {
		if len(p) > 7 && (p[:7] == "/admin/" || p[:8] == "/bundles") {
			t.Errorf("the edge's document has %s", p)
		}
	}
	if len(edge.Paths) >= len(central.Paths) {
		t.Errorf("edge %d paths, central %d", len(edge.Paths), len(central.Paths))
	}
	for p, item := range central.Paths {
		for m, raw := range item {
			if m == "parameters" {
				continue
			}
			var op map[string]any
			if err := json.Unmarshal(raw, &op); err != nil {
				t.Fatal(err)
			}
			if !Serves(op, CentralServer) && !Serves(op, EdgeServer) {
				t.Errorf("%s %s names no server (x-verdict-servers)", m, p)
			}
		}
	}
}

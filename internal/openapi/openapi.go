package openapi

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"slices"
	"sync"

	"gopkg.in/yaml.v3"
)

//go:embed openapi.yaml
var source []byte

// Server names a kind of Verdict server, as x-verdict-servers does.
type Server string

const (
	CentralServer Server = "central" // verdict serve
	EdgeServer    Server = "edge"    // verdict edge
)

// Methods are the operation keys of a path item, in the order documents
// and listings use.
var Methods = []string{"get", "head", "post", "put", "patch", "delete"}

var docs = sync.OnceValues(func() (map[Server][]byte, error) {
	var v any
	if err := yaml.Unmarshal(source, &v); err != nil {
		return nil, fmt.Errorf("openapi.yaml: %w", err)
	}
	doc, ok := jsonable(v).(map[string]any)
	if !ok {
		return nil, fmt.Errorf("openapi.yaml: not a mapping")
	}
	delete(doc, "x-anchors") // YAML anchors only, not part of the API
	out := map[Server][]byte{}
	for _, s := range []Server{CentralServer, EdgeServer} {
		b, err := json.MarshalIndent(only(doc, s), "", "  ")
		if err != nil {
			return nil, err
		}
		out[s] = b
	}
	return out, nil
})

// Document is the JSON document a server of kind s serves at /openapi.json:
// the operations it answers.
func Document(s Server) ([]byte, error) {
	m, err := docs()
	if err != nil {
		return nil, err
	}
	b, ok := m[s]
	if !ok {
		return nil, fmt.Errorf("openapi: no server %q", s)
	}
	return slices.Clone(b), nil
}

// Central is the central PDP's document. The embedded file is checked by
// this package's tests, so a failure here is a build that skipped them.
func Central() []byte { return must(Document(CentralServer)) }

// Edge is an edge PDP's document.
func Edge() []byte { return must(Document(EdgeServer)) }

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

// only is doc with the operations server s does not answer left out (and
// the path items and tags left empty by that).
func only(doc map[string]any, s Server) map[string]any {
	out := map[string]any{}
	for k, v := range doc {
		out[k] = v
	}
	paths := map[string]any{}
	used := map[string]bool{}
	for p, item := range doc["paths"].(map[string]any) {
		kept := map[string]any{}
		ops := 0
		for k, v := range item.(map[string]any) {
			if !slices.Contains(Methods, k) {
				kept[k] = v
				continue
			}
			if Serves(v.(map[string]any), s) {
				kept[k] = v
				ops++
				for _, t := range v.(map[string]any)["tags"].([]any) {
					used[t.(string)] = true
				}
			}
		}
		if ops > 0 {
			paths[p] = kept
		}
	}
	out["paths"] = paths
	var tags []any
	for _, t := range doc["tags"].([]any) {
		if used[t.(map[string]any)["name"].(string)] {
			tags = append(tags, t)
		}
	}
	out["tags"] = tags
	return out
}

// Serves reports whether server s answers operation op (its
// x-verdict-servers).
func Serves(op map[string]any, s Server) bool {
	list, _ := op["x-verdict-servers"].([]any)
	return slices.Contains(list, any(string(s)))
}

// jsonable turns what YAML decodes into what JSON encodes (mapping keys
// are strings in an OpenAPI document; YAML may read `200:` as a number).
func jsonable(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = jsonable(e)
		}
		return x
	case map[any]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[fmt.Sprint(k)] = jsonable(e)
		}
		return m
	case []any:
		for i, e := range x {
			x[i] = jsonable(e)
		}
		return x
	}
	return v
}

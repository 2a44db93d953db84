// Package authzen parses and validates OpenID AuthZEN 1.0 evaluation requests
// and turns them into the AST input the policies read. Unknown fields are
// ignored (the specification asks for that); missing or mistyped required
// fields are refused with the field at fault.
//
// A Request is a plain value owned by its caller.
package authzen

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/verdict-pdp/verdict/internal/verr"
)

// Entity is a subject or resource.
type Entity struct {
	Type       string         `json:"type"`
	ID         string         `json:"id"`
	Properties map[string]any `json:"properties,omitempty"`
}

// Action is what the subject wants to do.
type Action struct {
	Name       string         `json:"name"`
	Properties map[string]any `json:"properties,omitempty"`
}

// Request is one access evaluation request.
type Request struct {
	Subject  *Entity        `json:"subject,omitempty"`
	Action   *Action        `json:"action"`
	Resource *Entity        `json:"resource"`
	Context  map[string]any `json:"context,omitempty"`

	// raw, for lenient requests, is the input as given: the policies see it
	// whole (an OPA data API input may carry more than AuthZEN fields).
	raw map[string]any
}

// Decode parses raw JSON into a generic value, keeping numbers exact.
func Decode(data []byte) (any, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, verr.New(verr.InvalidInput, "", "empty body")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, verr.Wrap(verr.InvalidInput, "", err, "invalid JSON: %v", err)
	}
	if dec.More() {
		return nil, verr.New(verr.InvalidInput, "", "trailing data after the JSON value")
	}
	return v, nil
}

// ParseRequest parses and validates one evaluation request.
func ParseRequest(data []byte) (*Request, error) {
	v, err := Decode(data)
	if err != nil {
		return nil, err
	}
	return FromValue(v, "")
}

// FromValue validates a decoded JSON value as a request; path prefixes the
// field names of errors (e.g. "evaluations[3].").
func FromValue(v any, path string) (*Request, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, verr.New(verr.InvalidInput, trim(path), "a request must be a JSON object")
	}
	r := &Request{}
	var err error
	// AuthZEN requires a subject; an anonymous caller is a subject of type
	// "anonymous" (NonAuthenticatedUser, DESIGN.md rule 1).
	if r.Subject, err = entity(m["subject"], path+"subject", true); err != nil {
		return nil, err
	}
	a, ok := m["action"].(map[string]any)
	if !ok {
		return nil, verr.New(verr.InvalidInput, path+"action", "required object")
	}
	r.Action = &Action{}
	if r.Action.Name, ok = a["name"].(string); !ok || r.Action.Name == "" {
		return nil, verr.New(verr.InvalidInput, path+"action.name", "required string")
	}
	if r.Action.Properties, err = props(a, path+"action.properties"); err != nil {
		return nil, err
	}
	if r.Resource, err = entity(m["resource"], path+"resource", true); err != nil {
		return nil, err
	}
	if c, present := m["context"]; present && c != nil {
		if r.Context, ok = c.(map[string]any); !ok {
			return nil, verr.New(verr.InvalidInput, path+"context", "must be an object")
		}
		for _, k := range []string{"org", "environment"} {
			if x, present := r.Context[k]; present {
				if _, ok := x.(string); !ok {
					return nil, verr.New(verr.InvalidInput, path+"context."+k, "must be a string")
				}
			}
		}
		if x, present := r.Context["explain"]; present {
			if _, ok := x.(bool); !ok {
				return nil, verr.New(verr.InvalidInput, path+"context.explain", "must be a boolean")
			}
		}
	}
	return r, nil
}

func entity(v any, path string, needID bool) (*Entity, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, verr.New(verr.InvalidInput, path, "required object")
	}
	e := &Entity{}
	if e.Type, ok = m["type"].(string); !ok || e.Type == "" {
		return nil, verr.New(verr.InvalidInput, path+".type", "required string")
	}
	if e.ID, ok = m["id"].(string); needID && (!ok || e.ID == "") {
		return nil, verr.New(verr.InvalidInput, path+".id", "required string")
	}
	var err error
	if e.Properties, err = props(m, path+".properties"); err != nil {
		return nil, err
	}
	return e, nil
}

func props(m map[string]any, path string) (map[string]any, error) {
	p, present := m["properties"]
	if !present || p == nil {
		return nil, nil
	}
	pm, ok := p.(map[string]any)
	if !ok {
		return nil, verr.New(verr.InvalidInput, path, "must be an object")
	}
	return pm, nil
}

func trim(path string) string {
	if n := len(path); n > 0 && path[n-1] == '.' {
		return path[:n-1]
	}
	return path
}

// Org is context.org, or "".
func (r *Request) Org() string { s, _ := r.Context["org"].(string); return s }

// Environment is context.environment, or "".
func (r *Request) Environment() string { s, _ := r.Context["environment"].(string); return s }

// SubjectID is the id of a user subject, or "".
func (r *Request) SubjectID() string {
	if r.Subject == nil || r.Subject.Type != "user" {
		return ""
	}
	return r.Subject.ID
}

// Project is the project a built-in request touches: the resource itself for
// solution and project resources, else its "project" property.
func (r *Request) Project() string {
	switch r.Resource.Type {
	case "solution", "project":
		return r.Resource.ID
	}
	s, _ := r.Resource.Properties["project"].(string)
	return s
}

// WithDefaultOrg sets context.org when the request names none.
func (r *Request) WithDefaultOrg(org string) {
	if org == "" || r.Org() != "" {
		return
	}
	if r.Context == nil {
		r.Context = map[string]any{}
	}
	r.Context["org"] = org
}

// Value renders the request as policy input.
func (r *Request) Value() (ast.Value, error) {
	if r.raw != nil {
		m := make(map[string]any, len(r.raw))
		for k, v := range r.raw {
			m[k] = v
		}
		if r.Context != nil {
			m["context"] = r.Context
		}
		if r.Subject != nil {
			m["subject"] = entityMap(r.Subject.Type, r.Subject.ID, r.Subject.Properties, "", "")
		}
		v, err := ast.InterfaceToValue(m)
		if err != nil {
			return nil, verr.Wrap(verr.InvalidInput, "input", err, "input cannot be used: %v", err)
		}
		return v, nil
	}
	m := map[string]any{
		"action":   entityMap("", "", r.Action.Properties, "name", r.Action.Name),
		"resource": entityMap(r.Resource.Type, r.Resource.ID, r.Resource.Properties, "", ""),
	}
	if r.Subject != nil {
		m["subject"] = entityMap(r.Subject.Type, r.Subject.ID, r.Subject.Properties, "", "")
	}
	if r.Context != nil {
		m["context"] = r.Context
	}
	v, err := ast.InterfaceToValue(m)
	if err != nil {
		return nil, verr.Wrap(verr.InvalidInput, "", err, "request cannot be used as input: %v", err)
	}
	return v, nil
}

func entityMap(typ, id string, props map[string]any, k, kv string) map[string]any {
	m := map[string]any{}
	if typ != "" {
		m["type"] = typ
		m["id"] = id
	}
	if k != "" {
		m[k] = kv
	}
	if props != nil {
		m["properties"] = props
	}
	return m
}

// String is a compact description for logs and failures.
func (r *Request) String() string {
	if r.Action == nil || r.Resource == nil {
		return "request"
	}
	sub := "anonymous"
	if r.Subject != nil {
		sub = r.Subject.Type + ":" + r.Subject.ID
	}
	return fmt.Sprintf("%s %s %s:%s", sub, r.Action.Name, r.Resource.Type, r.Resource.ID)
}

// Lenient reads whatever request fields v has, for OPA data API calls whose
// input need not be a complete AuthZEN request. Missing parts stay empty.
func Lenient(v any) *Request {
	m, _ := v.(map[string]any)
	r := &Request{Action: &Action{}, Resource: &Entity{}}
	if s, ok := m["subject"].(map[string]any); ok {
		r.Subject = &Entity{}
		r.Subject.Type, _ = s["type"].(string)
		r.Subject.ID, _ = s["id"].(string)
		r.Subject.Properties, _ = s["properties"].(map[string]any)
	}
	if a, ok := m["action"].(map[string]any); ok {
		r.Action.Name, _ = a["name"].(string)
		r.Action.Properties, _ = a["properties"].(map[string]any)
	}
	if e, ok := m["resource"].(map[string]any); ok {
		r.Resource.Type, _ = e["type"].(string)
		r.Resource.ID, _ = e["id"].(string)
		r.Resource.Properties, _ = e["properties"].(map[string]any)
	}
	r.Context, _ = m["context"].(map[string]any)
	r.raw = m
	return r
}

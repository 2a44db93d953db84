// Package authzen parses and validates OpenID AuthZEN 1.0 evaluation requests
// and turns them into the AST input the policies read. Bodies are decoded by
// internal/frontdoor (one JSON value, no duplicate member, valid UTF-8);
// unknown members are kept (the specification asks that they be accepted);
// missing or mistyped required fields are refused with the field at fault.
//
// What the policies see. For a built-in resource type the input is the
// request's known members only (subject, action, resource: type, id, name,
// properties; context), built the same way for the same request. For any
// other type (an extension, docs/extending.md) the input is the whole
// request as sent, unknown members included, as an OPA-based PDP would pass
// it; a verified subject token has replaced the subject's id and was taken
// out of its properties first.
//
// Anonymous callers (DESIGN.md rule 1): a request without a subject (absent
// or null) or with subject type "anonymous" (id optional) is decided for the
// system role NonAuthenticatedUser; the policies consider it for automation
// flows only and deny everything else (subject_not_active).
//
// A Request is a plain value owned by its caller; nothing in it is shared
// with another Request.
package authzen

import (
	"encoding/json"
	"fmt"
	"maps"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/verdict-pdp/verdict/internal/frontdoor"
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

	// raw is the request object as sent (its entity maps copied, so that
	// nothing here is shared with another request): extension policies and
	// OPA's data API see it whole.
	raw map[string]any
	// lenient marks an OPA data API input, which need not be a request.
	lenient bool
}

// Anonymous is the subject type of a caller without a user
// (NonAuthenticatedUser).
const Anonymous = "anonymous"

// builtinTypes are the resource types the built-in policies decide: the
// keys of data.verdict.main.actions, and business_filter (filters). A test
// holds the list to the policies.
var builtinTypes = map[string]bool{
	"solution": true, "ui_flow": true, "component": true, "process": true, "swimlane": true,
	"flow": true, "project": true, "org": true, "business_filter": true,
}

// Builtin reports whether resource type t is decided by the built-in
// policies (else by an extension, or denied as unknown).
func Builtin(t string) bool { return builtinTypes[t] }

// Decode parses a body strictly (frontdoor.Decode), keeping numbers exact.
func Decode(data []byte) (any, error) { return frontdoor.Decode(data) }

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
	r := &Request{raw: own(m)}
	var err error
	if r.Subject, err = subject(r.raw, path+"subject", true); err != nil {
		return nil, err
	}
	if r.Action, err = action(r.raw, path+"action"); err != nil {
		return nil, err
	}
	if r.Resource, err = entity(r.raw["resource"], path+"resource", true); err != nil {
		return nil, err
	}
	if r.Context, err = requestContext(r.raw, path+"context"); err != nil {
		return nil, err
	}
	return r, nil
}

// own copies what a request may change (its entities, their properties,
// its context) so that requests built from one decoded value (a batch's
// items and its defaults) never share a map.
func own(m map[string]any) map[string]any {
	out := maps.Clone(m)
	for _, k := range []string{"subject", "action", "resource"} {
		if e, ok := out[k].(map[string]any); ok {
			e = maps.Clone(e)
			if p, ok := e["properties"].(map[string]any); ok {
				e["properties"] = maps.Clone(p)
			}
			out[k] = e
		}
	}
	if c, ok := out["context"].(map[string]any); ok {
		out["context"] = maps.Clone(c)
	}
	return out
}

// subject reads the subject: none (absent or null) is an anonymous caller;
// an "anonymous" subject needs no id.
func subject(m map[string]any, path string, needID bool) (*Entity, error) {
	v, present := m["subject"]
	if !present || v == nil {
		return nil, nil
	}
	if s, ok := v.(map[string]any); ok && s["type"] == Anonymous {
		needID = false
	}
	return entity(v, path, needID)
}

func action(m map[string]any, path string) (*Action, error) {
	a, ok := m["action"].(map[string]any)
	if !ok {
		return nil, verr.New(verr.InvalidInput, path, "required object")
	}
	r := &Action{}
	if r.Name, ok = a["name"].(string); !ok || r.Name == "" {
		return nil, verr.New(verr.InvalidInput, path+".name", "required string")
	}
	if err := frontdoor.CheckName(path+".name", r.Name); err != nil {
		return nil, err
	}
	var err error
	if r.Properties, err = props(a, path+".properties"); err != nil {
		return nil, err
	}
	return r, nil
}

// idProperties are the properties built-in types read as ids.
var idProperties = []string{"project", "ui_flow", "process"}

func entity(v any, path string, needID bool) (*Entity, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, verr.New(verr.InvalidInput, path, "required object")
	}
	e := &Entity{}
	if e.Type, ok = m["type"].(string); !ok || e.Type == "" {
		return nil, verr.New(verr.InvalidInput, path+".type", "required string")
	}
	switch id, present := m["id"]; {
	case !present || id == nil:
	case isString(id):
		e.ID = id.(string)
	default:
		return nil, verr.New(verr.InvalidInput, path+".id", "must be a string")
	}
	if needID && e.ID == "" {
		return nil, verr.New(verr.InvalidInput, path+".id", "required string")
	}
	for k, s := range map[string]string{".type": e.Type, ".id": e.ID} {
		if err := frontdoor.CheckName(path+k, s); err != nil {
			return nil, err
		}
	}
	var err error
	if e.Properties, err = props(m, path+".properties"); err != nil {
		return nil, err
	}
	for _, k := range idProperties {
		if s, ok := e.Properties[k].(string); ok {
			if err := frontdoor.CheckName(path+".properties."+k, s); err != nil {
				return nil, err
			}
		}
	}
	return e, nil
}

func isString(v any) bool { _, ok := v.(string); return ok }

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

func requestContext(m map[string]any, path string) (map[string]any, error) {
	c, present := m["context"]
	if !present || c == nil {
		return nil, nil
	}
	ctx, ok := c.(map[string]any)
	if !ok {
		return nil, verr.New(verr.InvalidInput, path, "must be an object")
	}
	for _, k := range []string{"org", "environment"} {
		if x, present := ctx[k]; present {
			s, ok := x.(string)
			if !ok {
				return nil, verr.New(verr.InvalidInput, path+"."+k, "must be a string")
			}
			if err := frontdoor.CheckName(path+"."+k, s); err != nil {
				return nil, err
			}
		}
	}
	if x, present := ctx["explain"]; present {
		if _, ok := x.(bool); !ok {
			return nil, verr.New(verr.InvalidInput, path+".explain", "must be a boolean")
		}
	}
	return ctx, nil
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

// whole reports whether the policies see the request as sent.
func (r *Request) whole() bool {
	return r.raw != nil && (r.lenient || r.Resource == nil || !builtinTypes[r.Resource.Type])
}

// Value renders the request as policy input (see the package doc).
func (r *Request) Value() (ast.Value, error) {
	if r.whole() {
		v, err := ast.InterfaceToValue(r.wholeMap())
		if err != nil {
			return nil, verr.Wrap(verr.InvalidInput, "input", err, "input cannot be used: %v", err)
		}
		return v, nil
	}
	// Built straight as AST (the same value InterfaceToValue gives for the
	// maps entityMap would make): this runs for every decision evaluated.
	obj := ast.NewObjectWithCapacity(4)
	action := ast.NewObjectWithCapacity(2)
	action.Insert(ast.InternedTerm("name"), ast.StringTerm(r.Action.Name))
	if err := insertValue(action, "properties", r.Action.Properties); err != nil {
		return nil, err
	}
	obj.Insert(ast.InternedTerm("action"), ast.NewTerm(action))
	res, err := entityValue(r.Resource.Type, r.Resource.ID, r.Resource.Properties)
	if err != nil {
		return nil, err
	}
	obj.Insert(ast.InternedTerm("resource"), res)
	if r.Subject != nil {
		sub, err := entityValue(r.Subject.Type, r.Subject.ID, r.Subject.Properties)
		if err != nil {
			return nil, err
		}
		obj.Insert(ast.InternedTerm("subject"), sub)
	}
	if r.Context != nil {
		if err := insertValue(obj, "context", r.Context); err != nil {
			return nil, err
		}
	}
	return obj, nil
}

// entityValue is entityMap's value as AST.
func entityValue(typ, id string, props map[string]any) (*ast.Term, error) {
	o := ast.NewObjectWithCapacity(3)
	if typ != "" {
		o.Insert(ast.InternedTerm("type"), ast.StringTerm(typ))
		o.Insert(ast.InternedTerm("id"), ast.StringTerm(id))
	}
	if err := insertValue(o, "properties", props); err != nil {
		return nil, err
	}
	return ast.NewTerm(o), nil
}

// insertValue adds key: m to o when m is not nil; string-valued members
// (the common case: project, ui_flow, org, environment) are built directly.
func insertValue(o ast.Object, key string, m map[string]any) error {
	if m == nil {
		return nil
	}
	v := ast.NewObjectWithCapacity(len(m))
	for k, x := range m {
		switch t := x.(type) {
		case string:
			v.Insert(ast.StringTerm(k), ast.StringTerm(t))
		case bool:
			v.Insert(ast.StringTerm(k), ast.InternedTerm(t))
		default:
			xv, err := ast.InterfaceToValue(x)
			if err != nil {
				return verr.Wrap(verr.InvalidInput, key+"."+k, err, "cannot be used as input: %v", err)
			}
			v.Insert(ast.StringTerm(k), ast.NewTerm(xv))
		}
	}
	o.Insert(ast.InternedTerm(key), ast.NewTerm(v))
	return nil
}

// wholeMap is the request as sent, with what the PDP settled written over
// it: the default org, a verified subject token's subject (and the token
// taken out), the parsed entities' type, id, name and properties.
func (r *Request) wholeMap() map[string]any {
	m := maps.Clone(r.raw)
	if r.Context != nil {
		m["context"] = r.Context
	}
	if r.lenient {
		// An OPA data API input: only the subject may have changed.
		if r.Subject != nil {
			m["subject"] = entityMap(r.Subject.Type, r.Subject.ID, r.Subject.Properties, "", "")
		}
		return m
	}
	over := func(k string, fields map[string]any) {
		e, _ := m[k].(map[string]any)
		e = maps.Clone(e)
		if e == nil {
			e = map[string]any{}
		}
		for f, v := range fields {
			if v == nil {
				delete(e, f)
			} else {
				e[f] = v
			}
		}
		m[k] = e
	}
	if r.Subject == nil {
		delete(m, "subject")
	} else {
		over("subject", map[string]any{"type": r.Subject.Type, "id": r.Subject.ID, "properties": nilMap(r.Subject.Properties)})
	}
	if r.Action != nil {
		over("action", map[string]any{"name": r.Action.Name, "properties": nilMap(r.Action.Properties)})
	}
	if r.Resource != nil {
		over("resource", map[string]any{"type": r.Resource.Type, "id": r.Resource.ID, "properties": nilMap(r.Resource.Properties)})
	}
	return m
}

func nilMap(m map[string]any) any {
	if m == nil {
		return nil
	}
	return m
}

// MarshalJSON writes what the policies see: the known members for a
// built-in type, the whole request otherwise. The decision cache keys on
// it, so two requests that differ only where an extension can read are
// never answered from each other's entry; the decision log records it.
func (r *Request) MarshalJSON() ([]byte, error) {
	if r.whole() {
		return json.Marshal(r.wholeMap())
	}
	type known Request // without this method
	return json.Marshal((*known)(r))
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
	sub := Anonymous
	if r.Subject != nil {
		sub = r.Subject.Type + ":" + r.Subject.ID
	}
	return fmt.Sprintf("%s %s %s:%s", sub, r.Action.Name, r.Resource.Type, r.Resource.ID)
}

// Lenient reads whatever request fields v has, for OPA data API calls whose
// input need not be a complete AuthZEN request. Missing parts stay empty.
func Lenient(v any) *Request {
	m, _ := v.(map[string]any)
	m = own(m)
	r := &Request{Action: &Action{}, Resource: &Entity{}, lenient: true}
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
	if m == nil {
		m = map[string]any{}
	}
	r.raw = m
	return r
}

// CheckNames applies the id and name rule (frontdoor.CheckName) to what a
// lenient request names; path prefixes the fields ("input.").
func (r *Request) CheckNames(path string) error {
	names := map[string]string{"action.name": r.Action.Name, "resource.type": r.Resource.Type, "resource.id": r.Resource.ID,
		"context.environment": r.Environment()}
	if r.Subject != nil {
		names["subject.type"], names["subject.id"] = r.Subject.Type, r.Subject.ID
	}
	for _, k := range []string{"subject.type", "subject.id", "action.name", "resource.type", "resource.id", "context.environment"} {
		if err := frontdoor.CheckName(path+k, names[k]); err != nil {
			return err
		}
	}
	return nil
}

package openapi

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Markdown renders a document (Central's) as docs/openapi.md: every
// operation by tag with its method, path, summary, servers, parameters,
// request body and responses, then every schema's members.
func Markdown(doc []byte) ([]byte, error) {
	var d map[string]any
	if err := json.Unmarshal(doc, &d); err != nil {
		return nil, err
	}
	m := &md{doc: d}
	m.render()
	return []byte(m.b.String()), nil
}

type md struct {
	doc map[string]any
	b   strings.Builder
}

type operation struct {
	method, path string
	item, op     map[string]any
}

func (m *md) p(format string, args ...any) { fmt.Fprintf(&m.b, format, args...) }

func (m *md) render() {
	info := obj(m.doc["info"])
	m.p("# HTTP API reference (OpenAPI %s)\n\n", m.doc["openapi"])
	m.p("<!-- Generated from internal/openapi/openapi.yaml by `go test ./internal/openapi -run TestDoc -update`; do not edit. -->\n\n")
	m.p("Every operation of Verdict's HTTP API, from its OpenAPI %s description, which the server serves\n", m.doc["openapi"])
	m.p("at `GET /openapi.json` (an edge serves the operations marked *edge*). Worked `curl` examples against\n")
	m.p("`make run`: [http-api.md](http-api.md); the admin API's rules: [admin-api.md](admin-api.md).\n")
	m.p("Tests hold the description to the server: every route is an operation and every operation a route\n")
	m.p("(the access console, `/console/…`, HTML pages for people, is the one exclusion), and every request and\n")
	m.p("response of the API tests must fit it.\n\n")
	m.p("%s\n", strings.TrimSpace(str(info["description"])))

	byTag := map[string][]operation{}
	for _, path := range sortedKeys(obj(m.doc["paths"])) {
		item := obj(obj(m.doc["paths"])[path])
		for _, method := range Methods {
			op, ok := item[method].(map[string]any)
			if !ok {
				continue
			}
			tag := str(list(op["tags"])[0])
			byTag[tag] = append(byTag[tag], operation{method, path, item, op})
		}
	}
	m.p("\n## Operations\n\n| tag | method | path | summary | servers |\n|---|---|---|---|---|\n")
	for _, t := range list(m.doc["tags"]) {
		name := str(obj(t)["name"])
		for _, o := range byTag[name] {
			m.p("| %s | `%s` | [`%s`](#%s) | %s | %s |\n", name, strings.ToUpper(o.method), o.path, anchor(o.op["operationId"]),
				cell(o.op["summary"]), servers(o.op))
		}
	}
	for _, t := range list(m.doc["tags"]) {
		tag := obj(t)
		m.p("\n## %s\n\n%s\n", tag["name"], str(tag["description"]))
		for _, o := range byTag[str(tag["name"])] {
			m.operation(o)
		}
	}
	m.p("\n## Schemas\n")
	schemas := obj(obj(m.doc["components"])["schemas"])
	for _, name := range sortedKeys(schemas) {
		s := obj(schemas[name])
		m.p("\n### %s\n\n<a id=\"schema-%s\"></a>", name, strings.ToLower(name))
		if d := str(s["description"]); d != "" {
			m.p("%s\n\n", strings.TrimSpace(d))
		} else {
			m.p("\n")
		}
		m.p("Type: %s.\n", m.typeOf(s))
		m.members(s)
	}
}

func (m *md) operation(o operation) {
	op := o.op
	m.p("\n### %s `%s`\n\n<a id=\"%s\"></a>%s (servers: %s)\n", strings.ToUpper(o.method), o.path, anchor(op["operationId"]), str(op["summary"]), servers(op))
	if d := str(op["description"]); d != "" {
		m.p("\n%s\n", strings.TrimSpace(d))
	}
	if sec, ok := op["security"].([]any); ok && len(sec) == 0 {
		m.p("\nNo sign-in.\n")
	}
	params := append(list(o.item["parameters"]), list(op["parameters"])...)
	if len(params) > 0 {
		m.p("\n| parameter | in | required | type | meaning |\n|---|---|---|---|---|\n")
		for _, p := range params {
			p := m.resolve(obj(p))
			req := ""
			if p["required"] == true {
				req = "yes"
			}
			m.p("| `%s` | %s | %s | %s | %s |\n", p["name"], p["in"], req, m.typeOf(obj(p["schema"])), cell(p["description"]))
		}
	}
	if rb := op["requestBody"]; rb != nil {
		rb := m.resolve(obj(rb))
		need := "optional"
		if rb["required"] == true {
			need = "required"
		}
		for _, ct := range sortedKeys(obj(rb["content"])) {
			s := obj(obj(obj(rb["content"])[ct])["schema"])
			m.p("\nRequest body (%s, %s): %s.", ct, need, m.typeOf(s))
			if d := str(rb["description"]); d != "" {
				m.p(" %s", strings.TrimSpace(d))
			}
			if d := str(m.resolve(s)["description"]); d != "" && s["$ref"] != nil {
				m.p(" %s", strings.Join(strings.Fields(d), " "))
			}
			m.p("\n")
			m.members(m.resolve(s))
		}
	}
	m.p("\n| status | meaning | body |\n|---|---|---|\n")
	responses := obj(op["responses"])
	for _, code := range sortedKeys(responses) {
		r := m.resolve(obj(responses[code]))
		var bodies []string
		for _, ct := range sortedKeys(obj(r["content"])) {
			body := ct
			if s, ok := obj(obj(r["content"])[ct])["schema"].(map[string]any); ok {
				body += ": " + m.typeOf(s)
			}
			bodies = append(bodies, body)
		}
		var hs []string
		for _, h := range sortedKeys(obj(r["headers"])) {
			hs = append(hs, "`"+h+"`")
		}
		desc := cell(r["description"])
		if len(hs) > 0 {
			desc += " Headers: " + strings.Join(hs, ", ") + "."
		}
		m.p("| %s | %s | %s |\n", code, desc, strings.Join(bodies, "; "))
	}
}

// members writes the member table of an object schema (nested objects as
// dotted paths, two levels down; referenced schemas are linked).
func (m *md) members(s map[string]any) {
	var rows []string
	m.walk(s, "", 0, &rows)
	if len(rows) == 0 {
		return
	}
	m.p("\n| member | type | required | meaning |\n|---|---|---|---|\n")
	for _, r := range rows {
		m.p("%s\n", r)
	}
	if s["additionalProperties"] == false || s["unevaluatedProperties"] == false {
		m.p("\nNo other member: a request naming one is refused (400), an answer never has one.\n")
	}
}

func (m *md) walk(s map[string]any, prefix string, depth int, rows *[]string) {
	props, required := m.properties(s)
	for _, name := range sortedKeys(props) {
		p := obj(props[name])
		req := ""
		if slices.Contains(required, name) {
			req = "yes"
		}
		path := prefix + name
		*rows = append(*rows, fmt.Sprintf("| `%s` | %s | %s | %s |", path, m.typeOf(p), req, cell(p["description"])))
		if _, isRef := p["$ref"]; !isRef && depth < 2 {
			m.walk(p, path+".", depth+1, rows)
		}
	}
}

// properties are a schema's own members and those of the schemas it is
// allOf (the strict wrappers of internal/openapi).
func (m *md) properties(s map[string]any) (map[string]any, []string) {
	props := map[string]any{}
	var required []string
	for _, a := range list(s["allOf"]) {
		p, r := m.properties(m.resolve(obj(a)))
		for k, v := range p {
			props[k] = v
		}
		required = append(required, r...)
	}
	for k, v := range obj(s["properties"]) {
		props[k] = v
	}
	for _, r := range list(s["required"]) {
		required = append(required, str(r))
	}
	return props, required
}

// typeOf is a schema's type in a few words, referenced schemas linked.
func (m *md) typeOf(s map[string]any) string {
	if ref := str(s["$ref"]); ref != "" {
		name := ref[strings.LastIndex(ref, "/")+1:]
		return fmt.Sprintf("[%s](#schema-%s)", name, strings.ToLower(name))
	}
	if c, ok := s["const"]; ok {
		return fmt.Sprintf("`%v`", jsonText(c))
	}
	if e := list(s["enum"]); len(e) > 0 {
		var vs []string
		for _, v := range e {
			vs = append(vs, "`"+jsonText(v)+"`")
		}
		return strings.Join(vs, " \\| ")
	}
	for _, k := range []string{"oneOf", "anyOf"} {
		if alts := list(s[k]); len(alts) > 0 {
			var ts []string
			for _, a := range alts {
				ts = append(ts, m.typeOf(obj(a)))
			}
			return strings.Join(ts, " or ")
		}
	}
	if all := list(s["allOf"]); len(all) == 1 {
		return m.typeOf(obj(all[0]))
	}
	var types []string
	switch t := s["type"].(type) {
	case string:
		types = []string{t}
	case []any:
		for _, x := range t {
			types = append(types, str(x))
		}
	}
	for i, t := range types {
		switch t {
		case "array":
			if it, ok := s["items"].(map[string]any); ok {
				types[i] = "array of " + m.typeOf(it)
			}
		case "object":
			if ap, ok := s["additionalProperties"].(map[string]any); ok {
				types[i] = "map to " + m.typeOf(ap)
			}
		case "string":
			if p := str(s["pattern"]); p != "" {
				types[i] = "string `" + p + "`"
			}
		}
	}
	if len(types) == 0 {
		return "any"
	}
	return strings.Join(types, " or ")
}

// resolve follows a local $ref to a component (not schemas: those are
// linked).
func (m *md) resolve(x map[string]any) map[string]any {
	ref := str(x["$ref"])
	if !strings.HasPrefix(ref, "#/components/") {
		return x
	}
	parts := strings.Split(strings.TrimPrefix(ref, "#/"), "/")
	var cur any = m.doc
	for _, p := range parts {
		cur = obj(cur)[p]
	}
	return obj(cur)
}

func servers(op map[string]any) string {
	var s []string
	for _, x := range list(op["x-verdict-servers"]) {
		s = append(s, str(x))
	}
	return strings.Join(s, ", ")
}

func anchor(id any) string { return "op-" + strings.ToLower(str(id)) }

// cell is text fit for a table cell: one line, pipes escaped.
func cell(v any) string {
	s := strings.Join(strings.Fields(str(v)), " ")
	return strings.ReplaceAll(s, "|", "\\|")
}

func jsonText(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func obj(v any) map[string]any { m, _ := v.(map[string]any); return m }
func list(v any) []any         { l, _ := v.([]any); return l }
func str(v any) string         { s, _ := v.(string); return s }

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

package admin

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"github.com/verdict-pdp/verdict/internal/verr"
)

// Request bodies are decoded strictly: an unknown member (names match
// exactly, not case-insensitively as encoding/json would) or a value of the
// wrong type is a 400 naming the field. A top-level "justification" string
// is taken out of any body and recorded in the audit entry.

// Body size caps.
const (
	maxBody    = 1 << 20  // 1 MiB
	maxOrgBody = 32 << 20 // 32 MiB: a whole org document
	maxJustLen = 1024     // an audit justification
)

// readBody reads at most limit bytes of the request body.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, verr.New(verr.InvalidInput, "", "request body larger than %d bytes", limit)
		}
		return nil, verr.Wrap(verr.InvalidInput, "", err, "reading body: %v", err)
	}
	return b, nil
}

// decodeStrict decodes a JSON object into dst (a pointer to a struct) and
// returns its "justification" member, if any.
func decodeStrict(data []byte, dst any) (string, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var raw any
	if err := dec.Decode(&raw); err != nil {
		return "", verr.Wrap(verr.InvalidInput, "", err, "malformed JSON: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return "", verr.New(verr.InvalidInput, "", "trailing data after the JSON value")
	}
	obj, ok := raw.(map[string]any)
	if !ok {
		return "", verr.New(verr.InvalidInput, "", "the body must be a JSON object")
	}
	just := ""
	if j, ok := obj["justification"]; ok {
		s, ok := j.(string)
		if !ok {
			return "", verr.New(verr.InvalidInput, "justification", "must be a string")
		}
		if len(s) > maxJustLen {
			return "", verr.New(verr.InvalidInput, "justification", "longer than %d bytes", maxJustLen)
		}
		just = s
		delete(obj, "justification")
	}
	if err := checkFields("", obj, reflect.TypeOf(dst).Elem()); err != nil {
		return "", err
	}
	b, _ := json.Marshal(obj)
	if err := json.Unmarshal(b, dst); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return "", verr.Wrap(verr.InvalidInput, te.Field, err, "must be %s, not %s", kindName(te.Type), te.Value)
		}
		return "", verr.Wrap(verr.InvalidInput, "", err, "%v", err)
	}
	return just, nil
}

// checkFields refuses members of raw that type t does not declare and
// values of the wrong JSON type, with the JSON path of the first one (map
// members in sorted order, so the answer is stable). null is accepted where
// Go has a nil.
func checkFields(path string, raw any, t reflect.Type) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
		if raw == nil {
			return nil
		}
	}
	if raw == nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Map) {
		return nil
	}
	if err := checkType(path, raw, t); err != nil {
		return err
	}
	switch t.Kind() {
	case reflect.Struct:
		obj := raw.(map[string]any)
		fields := jsonFields(t)
		for _, k := range sortedKeys(obj) {
			ft, ok := fields[k]
			if !ok {
				return verr.New(verr.InvalidInput, join(path, k), "unknown field %q", k)
			}
			if err := checkFields(join(path, k), obj[k], ft); err != nil {
				return err
			}
		}
	case reflect.Map:
		if obj, ok := raw.(map[string]any); ok {
			for _, k := range sortedKeys(obj) {
				if err := checkFields(join(path, k), obj[k], t.Elem()); err != nil {
					return err
				}
			}
		}
	case reflect.Slice:
		if arr, ok := raw.([]any); ok {
			for i, v := range arr {
				if err := checkFields(path+"["+strconv.Itoa(i)+"]", v, t.Elem()); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// checkType checks that raw is a JSON value of the kind t decodes.
func checkType(path string, raw any, t reflect.Type) error {
	ok := true
	switch t.Kind() {
	case reflect.String:
		_, ok = raw.(string)
	case reflect.Bool:
		_, ok = raw.(bool)
	case reflect.Int, reflect.Int64, reflect.Int32:
		n, isNum := raw.(json.Number)
		_, err := n.Int64()
		ok = isNum && err == nil
	case reflect.Slice:
		_, ok = raw.([]any)
	case reflect.Map, reflect.Struct:
		_, ok = raw.(map[string]any)
	}
	if !ok {
		return verr.New(verr.InvalidInput, path, "must be %s", kindName(t))
	}
	return nil
}

// jsonFields maps the JSON names of a struct's fields (embedded structs
// flattened, as encoding/json does) to their types.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" || !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
			for k, v := range jsonFields(f.Type) {
				out[k] = v
			}
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = f.Type
	}
	return out
}

func join(path, k string) string {
	if path == "" {
		return k
	}
	return path + "." + k
}

func sortedKeys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func kindName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int64, reflect.Int32:
		return "an integer"
	case reflect.Slice:
		return "a list"
	case reflect.Map, reflect.Struct:
		return "an object"
	}
	return t.String()
}

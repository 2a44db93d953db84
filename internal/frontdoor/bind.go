package frontdoor

import (
	"encoding/json"
	"errors"
	"reflect"
	"sort"
	"strings"

	"github.com/verdict-pdp/verdict/internal/verr"
)

// Unmarshal decodes a body that must be one JSON object into dst (a pointer
// to a struct): Decode's rules, then Bind's, then CheckText's.
func Unmarshal(data []byte, dst any) error {
	v, err := Decode(data)
	if err != nil {
		return err
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return verr.New(verr.InvalidInput, "", "the body must be a JSON object")
	}
	return Bind(obj, dst)
}

// Bind stores a decoded object in dst (a pointer to a struct), strictly: a
// member dst does not declare (names match exactly, not
// case-insensitively as encoding/json would) or a value of the wrong JSON
// type is refused with the path of the first one (members in sorted order,
// so the answer is stable); null is accepted where Go has a nil. Every
// string is then checked by CheckText.
func Bind(obj map[string]any, dst any) error {
	t := reflect.TypeOf(dst)
	if t == nil || t.Kind() != reflect.Pointer {
		return verr.New(verr.Internal, "", "frontdoor.Bind needs a pointer, not %T", dst)
	}
	if err := checkFields("", obj, t.Elem()); err != nil {
		return err
	}
	b, err := json.Marshal(obj)
	if err != nil {
		return verr.Wrap(verr.InvalidInput, "", err, "%v", err)
	}
	if err := json.Unmarshal(b, dst); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return verr.Wrap(verr.InvalidInput, te.Field, err, "must be %s, not %s", kindName(te.Type), te.Value)
		}
		return verr.Wrap(verr.InvalidInput, "", err, "%v", err)
	}
	return CheckText("", dst)
}

// checkFields refuses members of raw that type t does not declare and values
// of the wrong JSON type.
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
				return verr.New(verr.InvalidInput, Join(path, k), "unknown field %q", k)
			}
			if err := checkFields(Join(path, k), obj[k], ft); err != nil {
				return err
			}
		}
	case reflect.Map:
		if obj, ok := raw.(map[string]any); ok {
			for _, k := range sortedKeys(obj) {
				if err := checkFields(Join(path, k), obj[k], t.Elem()); err != nil {
					return err
				}
			}
		}
	case reflect.Slice:
		if arr, ok := raw.([]any); ok {
			for i, v := range arr {
				if err := checkFields(Index(path, i), v, t.Elem()); err != nil {
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
		name, embedded, skip := fieldName(f)
		if skip {
			continue
		}
		if embedded {
			for k, v := range jsonFields(f.Type) {
				out[k] = v
			}
			continue
		}
		out[name] = f.Type
	}
	return out
}

// fieldName is a struct field's JSON name, whether it is an embedded struct
// whose fields are flattened, and whether encoding/json skips it.
func fieldName(f reflect.StructField) (name string, embedded, skip bool) {
	tag := f.Tag.Get("json")
	if tag == "-" || !f.IsExported() {
		return "", false, true
	}
	name, _, _ = strings.Cut(tag, ",")
	if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
		return "", true, false
	}
	if name == "" {
		name = f.Name
	}
	return name, false, false
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

package orgdoc

import (
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"sync"

	"github.com/verdict-pdp/verdict/internal/verr"
)

var rawMessageType = reflect.TypeFor[json.RawMessage]()

// strictDecode stores the parsed tree raw (see parseJSON) into dst, walking
// dst's type by reflection with its json tags, so every struct of types.go
// (and any field added later) is decoded strictly without per-type code.
// Unlike encoding/json it refuses unknown fields, matches names exactly (not
// case-insensitively), refuses a value of the wrong JSON type instead of
// skipping it, and refuses a non-integer where an integer is expected. null
// is accepted only where Go has a nil (pointer, slice, map, interface),
// because that is what json.Marshal writes for those, and exported documents
// must import again. at is the path of raw (nil for the document root).
func strictDecode(at *loc, raw any, dst reflect.Value) error {
	if dst.Type() == rawMessageType {
		// Kept verbatim for the component that interprets it (a decision
		// request, an expected filter answer); both are objects.
		obj, ok := raw.(*object)
		if !ok {
			return wrongType(at, "an object", raw)
		}
		b, err := json.Marshal(obj)
		if err != nil {
			return verr.Wrap(verr.InvalidInput, at.String(), err, "cannot re-encode value: %v", err)
		}
		dst.SetBytes(b)
		return nil
	}
	switch dst.Kind() {
	case reflect.Pointer:
		if raw == nil {
			dst.SetZero()
			return nil
		}
		p := reflect.New(dst.Type().Elem())
		if err := strictDecode(at, raw, p.Elem()); err != nil {
			return err
		}
		dst.Set(p)
	case reflect.Struct:
		return decodeStruct(at, raw, dst)
	case reflect.Slice:
		if raw == nil {
			dst.SetZero()
			return nil
		}
		arr, ok := raw.([]any)
		if !ok {
			return wrongType(at, "a list", raw)
		}
		s := reflect.MakeSlice(dst.Type(), len(arr), len(arr))
		for i, v := range arr {
			if err := strictDecode(at.elem(i), v, s.Index(i)); err != nil {
				return err
			}
		}
		dst.Set(s)
	case reflect.Map:
		return decodeMap(at, raw, dst)
	case reflect.String:
		s, ok := raw.(string)
		if !ok {
			return wrongType(at, "a string", raw)
		}
		dst.SetString(s)
	case reflect.Bool:
		b, ok := raw.(bool)
		if !ok {
			return wrongType(at, "a boolean", raw)
		}
		dst.SetBool(b)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, ok := raw.(json.Number)
		if !ok {
			return wrongType(at, "an integer", raw)
		}
		i, err := strconv.ParseInt(string(n), 10, dst.Type().Bits())
		if err != nil {
			return badInteger(at, n, false)
		}
		dst.SetInt(i)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		n, ok := raw.(json.Number)
		if !ok {
			return wrongType(at, "a non-negative integer", raw)
		}
		u, err := strconv.ParseUint(string(n), 10, dst.Type().Bits())
		if err != nil {
			return badInteger(at, n, true)
		}
		dst.SetUint(u)
	case reflect.Float32, reflect.Float64:
		n, ok := raw.(json.Number)
		if !ok {
			return wrongType(at, "a number", raw)
		}
		f, err := strconv.ParseFloat(string(n), dst.Type().Bits())
		if err != nil {
			return verr.New(verr.InvalidInput, at.String(), "number %s is out of range", n)
		}
		dst.SetFloat(f)
	case reflect.Interface:
		return decodeAny(at, raw, dst)
	default:
		return verr.New(verr.Internal, at.String(), "orgdoc cannot decode Go type %s", dst.Type())
	}
	return nil
}

func decodeStruct(at *loc, raw any, dst reflect.Value) error {
	obj, ok := raw.(*object)
	if !ok {
		return wrongType(at, "an object", raw)
	}
	fields := jsonFields(dst.Type())
	for _, k := range obj.keys {
		i, ok := fields[k]
		if !ok {
			return unknownField(at.child(k), k, fields)
		}
		if err := strictDecode(at.child(k), obj.vals[k], dst.Field(i)); err != nil {
			return err
		}
	}
	return nil
}

// unknownField refuses member k (at kl) of a struct with the given fields,
// listing the known ones.
func unknownField(kl *loc, k string, fields map[string]int) error {
	e := verr.New(verr.InvalidInput, kl.String(), "unknown field %q", k)
	e.Allowed = sortedKeys(fields)
	return e
}

func decodeMap(at *loc, raw any, dst reflect.Value) error {
	if raw == nil {
		dst.SetZero()
		return nil
	}
	obj, ok := raw.(*object)
	if !ok {
		return wrongType(at, "an object", raw)
	}
	t := dst.Type()
	if t.Key().Kind() != reflect.String {
		return verr.New(verr.Internal, at.String(), "orgdoc cannot decode map key type %s", t.Key())
	}
	m := reflect.MakeMapWithSize(t, len(obj.keys))
	for _, k := range obj.keys {
		v := reflect.New(t.Elem()).Elem()
		if err := strictDecode(at.child(k), obj.vals[k], v); err != nil {
			return err
		}
		m.SetMapIndex(reflect.ValueOf(k).Convert(t.Key()), v)
	}
	dst.Set(m)
	return nil
}

// decodeAny fills an interface (Expected.Context values) exactly as
// json.Unmarshal would (float64 numbers, map[string]any objects), so code
// comparing them sees the usual encoding/json types.
func decodeAny(at *loc, raw any, dst reflect.Value) error {
	if dst.NumMethod() != 0 {
		return verr.New(verr.Internal, at.String(), "orgdoc cannot decode Go type %s", dst.Type())
	}
	b, err := json.Marshal(raw)
	if err != nil {
		return verr.Wrap(verr.InvalidInput, at.String(), err, "cannot re-encode value: %v", err)
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return verr.Wrap(verr.InvalidInput, at.String(), err, "invalid value: %v", err)
	}
	if v == nil {
		dst.SetZero()
		return nil
	}
	dst.Set(reflect.ValueOf(v))
	return nil
}

// fieldCache maps a struct type to its JSON names -> field index.
var fieldCache sync.Map

// jsonFields returns the JSON names of t's exported fields (tag name, else
// the Go name), as encoding/json would write them.
func jsonFields(t reflect.Type) map[string]int {
	if m, ok := fieldCache.Load(t); ok {
		return m.(map[string]int)
	}
	m := map[string]int{}
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if name == "" {
			name = f.Name
		}
		m[name] = i
	}
	fieldCache.Store(t, m)
	return m
}

// badInteger explains why number n does not fit an integer field: 1.5 and
// 1e2 are refused alike, since only integer literals are integers here.
func badInteger(at *loc, n json.Number, unsigned bool) error {
	switch {
	case strings.ContainsAny(string(n), ".eE"):
		return verr.New(verr.InvalidInput, at.String(), "expected an integer, got %s", n)
	case unsigned && strings.HasPrefix(string(n), "-"):
		return verr.New(verr.InvalidInput, at.String(), "expected a non-negative integer, got %s", n)
	}
	return verr.New(verr.InvalidInput, at.String(), "integer %s is out of range", n)
}

func wrongType(at *loc, want string, raw any) error {
	return verr.New(verr.InvalidInput, at.String(), "expected %s, got %s", want, jsonKind(raw))
}

// jsonKind names the JSON type of a parsed value for error messages.
func jsonKind(raw any) string {
	switch raw.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case []any:
		return "a list"
	case *object:
		return "an object"
	}
	return "an unknown value"
}

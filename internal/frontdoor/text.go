package frontdoor

import (
	"reflect"
	"sort"
	"unicode"

	"github.com/verdict-pdp/verdict/internal/verr"
)

// freeText names the members whose strings are prose for people (a role's
// description, an audit justification): they may hold tabs and line
// breaks. Every other string is an id, a name or a value that ends up in a
// Redis key, a log line or a bundle path, and holds no control character.
var freeText = map[string]bool{"description": true, "justification": true}

// CheckName refuses a control character (NUL, C0, DEL, C1) in an id or a
// name.
func CheckName(field, s string) error {
	for i, r := range s {
		if unicode.IsControl(r) {
			return verr.New(verr.InvalidInput, field, "control character %U at byte %d: ids and names hold printable characters only", r, i)
		}
	}
	return nil
}

// CheckProse refuses NUL and control characters other than tab and line
// breaks in free text.
func CheckProse(field, s string) error {
	for i, r := range s {
		if unicode.IsControl(r) && r != '\t' && r != '\n' && r != '\r' {
			return verr.New(verr.InvalidInput, field, "control character %U at byte %d", r, i)
		}
	}
	return nil
}

// CheckText walks v (a struct, map, slice or string, through pointers) and
// applies CheckName to every string and map key, with its dotted path; the
// members named in freeText are held to CheckProse instead.
func CheckText(path string, v any) error {
	return checkValue(path, reflect.ValueOf(v), false)
}

func checkValue(path string, v reflect.Value, prose bool) error {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil
		}
		return checkValue(path, v.Elem(), prose)
	case reflect.String:
		if prose {
			return CheckProse(path, v.String())
		}
		return CheckName(path, v.String())
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			name, embedded, skip := fieldName(t.Field(i))
			if skip {
				continue
			}
			at := path
			if !embedded {
				at = Join(path, name)
			}
			if err := checkValue(at, v.Field(i), freeText[name]); err != nil {
				return err
			}
		}
	case reflect.Map:
		keys := v.MapKeys()
		// Sorted, so that of two faults the same one is named every time.
		sort.Slice(keys, func(i, j int) bool { return keys[i].String() < keys[j].String() })
		for _, k := range keys {
			key := ""
			if k.Kind() == reflect.String {
				key = k.String()
				if err := CheckName(path, key); err != nil {
					return err
				}
			}
			if err := checkValue(Join(path, key), v.MapIndex(k), freeText[key]); err != nil {
				return err
			}
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			if err := checkValue(Index(path, i), v.Index(i), prose); err != nil {
				return err
			}
		}
	}
	return nil
}

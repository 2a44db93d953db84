package facts

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/go-json-experiment/json/jsontext"
	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/verdict-pdp/verdict/internal/verr"
)

// decoder reads one stored record (a JSON value held in a Redis hash field)
// strictly, straight into AST: every member must be one the record kind has,
// of the right type; duplicate names and invalid UTF-8 are refused by
// jsontext. A record that does not decode is never skipped: the decision that
// needs it is denied (facts_invalid) with the key, the field and the JSON
// path at fault.
//
// A decoder is reused for the records of one read; it is not safe for
// concurrent use.
type decoder struct {
	dec   jsontext.Decoder
	buf   bytes.Buffer
	key   string // Redis key of the record
	field string // hash field of the record
}

// reset starts decoding raw, the value of field in hash key.
func (d *decoder) reset(key, field, raw string) {
	d.key, d.field = key, field
	d.buf.Reset()
	d.buf.WriteString(raw)
	d.dec.Reset(&d.buf)
}

// invalid is the error for a record that does not decode.
func invalid(key, field, path, format string, args ...any) *verr.Error {
	e := verr.New(verr.FactsInvalid, "", "stored record %s of %s does not decode at %q: %s", field, key, path, fmt.Sprintf(format, args...))
	e.Detail = map[string]string{"key": key, "field": field, "path": path}
	return e
}

func (d *decoder) fail(format string, args ...any) error {
	return invalid(d.key, d.field, string(d.dec.StackPointer()), format, args...)
}

// wrap turns a jsontext error into facts_invalid.
func (d *decoder) wrap(err error) error {
	var se *jsontext.SyntacticError
	if errors.As(err, &se) {
		return invalid(d.key, d.field, string(se.JSONPointer), "%v", se.Err)
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return invalid(d.key, d.field, string(d.dec.StackPointer()), "truncated")
	}
	return invalid(d.key, d.field, string(d.dec.StackPointer()), "%v", err)
}

// end checks that the record holds nothing after its value.
func (d *decoder) end() error {
	if _, err := d.dec.ReadToken(); err != io.EOF {
		if err == nil {
			return d.fail("data after the record")
		}
		return d.wrap(err)
	}
	return nil
}

func (d *decoder) token(want jsontext.Kind, what string) (jsontext.Token, error) {
	tok, err := d.dec.ReadToken()
	if err != nil {
		return tok, d.wrap(err)
	}
	if tok.Kind() != want {
		return tok, d.fail("%s expected, found %s", what, kindName(tok.Kind()))
	}
	return tok, nil
}

func kindName(k jsontext.Kind) string {
	switch k {
	case 'n':
		return "null"
	case 'f', 't':
		return "a boolean"
	case '"':
		return "a string"
	case '0':
		return "a number"
	case '{':
		return "an object"
	case '[':
		return "an array"
	}
	return "the end of an object or array"
}

// object reads an object, calling member for each name; member must read
// the member's value.
func (d *decoder) object(member func(name string) error) error {
	if _, err := d.token('{', "an object"); err != nil {
		return err
	}
	for d.dec.PeekKind() != '}' {
		tok, err := d.dec.ReadToken()
		if err != nil {
			return d.wrap(err)
		}
		if err := member(tok.String()); err != nil {
			return err
		}
	}
	_, err := d.dec.ReadToken()
	return d.wrapIf(err)
}

func (d *decoder) wrapIf(err error) error {
	if err != nil {
		return d.wrap(err)
	}
	return nil
}

// unknown refuses a member the record kind does not have: a renamed or
// misspelt member would otherwise vanish and, with it, a deny.
func (d *decoder) unknown(name string) error {
	return d.fail("unknown member %q", name)
}

func (d *decoder) str() (string, error) {
	tok, err := d.token('"', "a string")
	if err != nil {
		return "", err
	}
	return tok.String(), nil
}

// nonEmpty reads a string that must not be empty (ids, names).
func (d *decoder) nonEmpty() (string, error) {
	s, err := d.str()
	if err == nil && s == "" {
		err = d.fail("empty string")
	}
	return s, err
}

func (d *decoder) boolean() (bool, error) {
	tok, err := d.dec.ReadToken()
	if err != nil {
		return false, d.wrap(err)
	}
	if k := tok.Kind(); k != 't' && k != 'f' {
		return false, d.fail("a boolean expected, found %s", kindName(k))
	}
	return tok.Bool(), nil
}

// integer reads a JSON integer (positions "#", priorities).
func (d *decoder) integer() (int64, error) {
	tok, err := d.token('0', "an integer")
	if err != nil {
		return 0, err
	}
	n, err := tok.Int()
	if err != nil || strconv.FormatInt(n, 10) != tok.String() {
		return 0, d.fail("an integer expected, found %s", tok.String())
	}
	return n, nil
}

// position reads the "#" member every stored record carries.
func (d *decoder) position() error {
	_, err := d.integer()
	return err
}

// strings reads an array of strings as an AST array.
func (d *decoder) strings() (*ast.Term, error) {
	if _, err := d.token('[', "an array of strings"); err != nil {
		return nil, err
	}
	arr := ast.NewArrayWithCapacity(4)
	for d.dec.PeekKind() != ']' {
		s, err := d.str()
		if err != nil {
			return nil, err
		}
		arr = arr.Append(ast.InternedTerm(s))
	}
	_, err := d.dec.ReadToken()
	return ast.NewTerm(arr), d.wrapIf(err)
}

// attributes reads {key: [values]}.
func (d *decoder) attributes() (*ast.Term, error) {
	obj := ast.NewObjectWithCapacity(4)
	err := d.object(func(name string) error {
		vs, err := d.strings()
		if err == nil {
			obj.Insert(ast.InternedTerm(name), vs)
		}
		return err
	})
	return ast.NewTerm(obj), err
}

// item adds key: value to obj.
func item(obj ast.Object, key string, value *ast.Term) {
	obj.Insert(ast.InternedTerm(key), value)
}

package frontdoor

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strconv"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/verdict-pdp/verdict/internal/verr"
)

// Decode parses a request body into a generic value (objects as
// map[string]any, arrays as []any, numbers as json.Number, kept exact),
// strictly: exactly one JSON value, no duplicate member names, valid UTF-8,
// with the path of the first fault. jsontext (the tokenizer of Go's
// encoding/json/v2) does the syntax and the UTF-8 check; duplicates are
// caught here so the error can name the member by its dotted path.
func Decode(data []byte) (any, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, verr.New(verr.InvalidInput, "", "empty body: a JSON value is required")
	}
	d := &decoder{dec: jsontext.NewDecoder(bytes.NewReader(data), jsontext.AllowDuplicateNames(true))}
	v, err := d.value("")
	if err != nil {
		return nil, err
	}
	if _, err := d.dec.ReadToken(); err != io.EOF {
		return nil, verr.New(verr.InvalidInput, "", "trailing data after the JSON value: a body is exactly one JSON value")
	}
	return v, nil
}

type decoder struct {
	dec *jsontext.Decoder
}

func (d *decoder) value(path string) (any, error) {
	tok, err := d.dec.ReadToken()
	if err != nil {
		return nil, syntaxError(path, err)
	}
	switch tok.Kind() {
	case '{':
		m := map[string]any{}
		for d.dec.PeekKind() != '}' {
			nt, err := d.dec.ReadToken()
			if err != nil {
				return nil, syntaxError(path, err)
			}
			name := nt.String()
			at := Join(path, name)
			if _, dup := m[name]; dup {
				return nil, verr.New(verr.InvalidInput, at, "duplicate member %q: a member may appear once", name)
			}
			if m[name], err = d.value(at); err != nil {
				return nil, err
			}
		}
		if _, err := d.dec.ReadToken(); err != nil {
			return nil, syntaxError(path, err)
		}
		return m, nil
	case '[':
		l := []any{}
		for d.dec.PeekKind() != ']' {
			v, err := d.value(Index(path, len(l)))
			if err != nil {
				return nil, err
			}
			l = append(l, v)
		}
		if _, err := d.dec.ReadToken(); err != nil {
			return nil, syntaxError(path, err)
		}
		return l, nil
	case '"':
		return tok.String(), nil
	case '0':
		return json.Number(tok.String()), nil
	case 't':
		return true, nil
	case 'f':
		return false, nil
	case 'n':
		return nil, nil
	}
	// PeekKind reports 0 on a syntax error; ReadToken then says which.
	_, err = d.dec.ReadToken()
	return nil, syntaxError(path, err)
}

// syntaxError words a jsontext error without its package prefix and
// offsets, at path.
func syntaxError(path string, err error) error {
	if err == nil || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return verr.New(verr.InvalidInput, path, "invalid JSON: unexpected end of the body")
	}
	var se *jsontext.SyntacticError
	if errors.As(err, &se) && se.Err != nil {
		msg := se.Err.Error()
		if se.ByteOffset > 0 {
			msg += " (at byte " + strconv.FormatInt(se.ByteOffset, 10) + ")"
		}
		return verr.Wrap(verr.InvalidInput, path, err, "invalid JSON: %s", msg)
	}
	return verr.Wrap(verr.InvalidInput, path, err, "invalid JSON: %v", err)
}

// Join is the dotted path of member name under path.
func Join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// Index is the path of element i under path.
func Index(path string, i int) string { return path + "[" + strconv.Itoa(i) + "]" }

package orgdoc

import (
	"bytes"
	"encoding/json"
	"fmt"
	"unicode/utf8"

	"github.com/verdict-pdp/verdict/internal/verr"
)

// maxDepth bounds nesting so that a hostile document cannot make the parser
// (or the re-marshalling of raw subtrees) recurse without limit. Org
// documents nest about ten levels; evaluation requests a few more.
const maxDepth = 100

// object is a parsed JSON object that remembers key order: decoding then
// reports the first problem in document order, and raw subtrees
// (json.RawMessage fields) re-marshal with their keys as written.
type object struct {
	keys []string
	vals map[string]any
}

// MarshalJSON writes the object with its keys in document order.
func (o *object) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range o.keys {
		if i > 0 {
			b.WriteByte(',')
		}
		kb, err := json.Marshal(k)
		if err != nil {
			return nil, err
		}
		vb, err := json.Marshal(o.vals[k])
		if err != nil {
			return nil, err
		}
		b.Write(kb)
		b.WriteByte(':')
		b.Write(vb)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// parseJSON parses one JSON document (RFC 8259) into a generic tree of
// *object, []any, json.Number, string, bool and nil.
//
// It is a small parser of its own rather than json.Unmarshal into any, so
// that it can refuse what Unmarshal forgives: duplicate keys (two parsers
// could disagree on which one wins), invalid UTF-8 (silently replaced),
// trailing data and deep nesting; and so that a syntax error carries the
// path of the value it is in. (json.Decoder.Token could do the same but is
// several times slower, which starves fuzzing.) Strings with escapes are
// unquoted by encoding/json itself; FuzzParseJSON checks this parser against
// encoding/json.
func parseJSON(data []byte) (any, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, verr.New(verr.InvalidInput, "", "empty document")
	}
	if err := checkUTF8(data, 0); err != nil {
		return nil, err
	}
	p := parser{data: data}
	v, err := p.value(nil, 0)
	if err != nil {
		return nil, err
	}
	p.space()
	if p.pos < len(p.data) {
		return nil, verr.New(verr.InvalidInput, "", "unexpected data after the document at offset %d", p.pos)
	}
	return v, nil
}

// checkUTF8 refuses data (at document offset base) unless it is valid UTF-8.
func checkUTF8(data []byte, base int64) error {
	if utf8.Valid(data) {
		return nil
	}
	off := 0
	for off < len(data) {
		r, size := utf8.DecodeRune(data[off:])
		if r == utf8.RuneError && size == 1 {
			break
		}
		off += size
	}
	return verr.New(verr.InvalidInput, "", "document is not valid UTF-8 (offset %d)", base+int64(off))
}

type parser struct {
	data []byte
	pos  int
	// base is the document offset of data[0]: a streamed document is
	// parsed one element at a time, and offsets in errors stay the
	// document's own.
	base int64
}

// fail reports a syntax error at the current offset, inside the value at l.
func (p *parser) fail(l *loc, format string, args ...any) error {
	return syntaxError(l, p.base+int64(p.pos), format, args...)
}

// syntaxError reports a syntax error at document offset off, inside the
// value at l.
func syntaxError(l *loc, off int64, format string, args ...any) error {
	return verr.New(verr.InvalidInput, l.String(), "invalid JSON at offset %d: %s", off, fmt.Sprintf(format, args...))
}

// unexpectedAt reports the byte sequence rest (empty at the end of the
// input) found at document offset off where want was expected.
func unexpectedAt(l *loc, off int64, rest []byte, want string) error {
	if len(rest) == 0 {
		return syntaxError(l, off, "unexpected end of input, expected %s", want)
	}
	r, _ := utf8.DecodeRune(rest)
	return syntaxError(l, off, "unexpected %q, expected %s", r, want)
}

func (p *parser) space() {
	for p.pos < len(p.data) {
		switch p.data[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

// peek returns the next byte after white space, or 0 at the end.
func (p *parser) peek() byte {
	p.space()
	if p.pos >= len(p.data) {
		return 0
	}
	return p.data[p.pos]
}

func (p *parser) unexpected(l *loc, want string) error {
	return unexpectedAt(l, p.base+int64(p.pos), p.data[p.pos:], want)
}

// value parses the value that starts at the next non-space byte.
func (p *parser) value(l *loc, depth int) (any, error) {
	switch c := p.peek(); {
	case c == '{' || c == '[':
		if depth >= maxDepth {
			return nil, verr.New(verr.InvalidInput, l.String(), "document nests deeper than %d levels", maxDepth)
		}
		if c == '{' {
			return p.object(l, depth+1)
		}
		return p.array(l, depth+1)
	case c == '"':
		return p.str(l)
	case c == '-' || (c >= '0' && c <= '9'):
		return p.number(l)
	case c == 't':
		return true, p.literal(l, "true")
	case c == 'f':
		return false, p.literal(l, "false")
	case c == 'n':
		return nil, p.literal(l, "null")
	}
	return nil, p.unexpected(l, "a value")
}

func (p *parser) literal(l *loc, lit string) error {
	if !bytes.HasPrefix(p.data[p.pos:], []byte(lit)) {
		return p.unexpected(l, lit)
	}
	p.pos += len(lit)
	return nil
}

func (p *parser) object(l *loc, depth int) (any, error) {
	p.pos++ // '{'
	obj := &object{vals: map[string]any{}}
	if p.peek() == '}' {
		p.pos++
		return obj, nil
	}
	for {
		if p.peek() != '"' {
			return nil, p.unexpected(l, "an object key")
		}
		k, err := p.str(l)
		if err != nil {
			return nil, err
		}
		kl := l.child(k)
		if _, dup := obj.vals[k]; dup {
			return nil, verr.New(verr.InvalidInput, kl.String(), "duplicate key %q", k)
		}
		if p.peek() != ':' {
			return nil, p.unexpected(kl, "':'")
		}
		p.pos++
		v, err := p.value(kl, depth)
		if err != nil {
			return nil, err
		}
		obj.keys = append(obj.keys, k)
		obj.vals[k] = v
		switch p.peek() {
		case ',':
			p.pos++
		case '}':
			p.pos++
			return obj, nil
		default:
			return nil, p.unexpected(l, "',' or '}'")
		}
	}
}

func (p *parser) array(l *loc, depth int) (any, error) {
	p.pos++ // '['
	arr := []any{}
	if p.peek() == ']' {
		p.pos++
		return arr, nil
	}
	for {
		v, err := p.value(l.elem(len(arr)), depth)
		if err != nil {
			return nil, err
		}
		arr = append(arr, v)
		switch p.peek() {
		case ',':
			p.pos++
		case ']':
			p.pos++
			return arr, nil
		default:
			return nil, p.unexpected(l, "',' or ']'")
		}
	}
}

// str parses a string at p.pos (a '"'). Escapes are checked here and
// decoded by encoding/json, which also handles surrogate pairs.
func (p *parser) str(l *loc) (string, error) {
	start := p.pos
	p.pos++
	escaped := false
	for p.pos < len(p.data) {
		c := p.data[p.pos]
		switch {
		case c == '"':
			p.pos++
			if !escaped {
				return string(p.data[start+1 : p.pos-1]), nil
			}
			var s string
			if err := json.Unmarshal(p.data[start:p.pos], &s); err != nil {
				return "", verr.Wrap(verr.InvalidInput, l.String(), err, "invalid JSON string at offset %d: %v", p.base+int64(start), err)
			}
			return s, nil
		case c < 0x20:
			return "", p.fail(l, "control character in string")
		case c == '\\':
			escaped = true
			if err := p.escape(l); err != nil {
				return "", err
			}
		default:
			p.pos++
		}
	}
	return "", p.fail(l, "unexpected end of input in string")
}

// escape checks the escape sequence at p.pos (a '\\') and skips it.
func (p *parser) escape(l *loc) error {
	p.pos++
	if p.pos >= len(p.data) {
		return p.fail(l, "unexpected end of input in string")
	}
	switch p.data[p.pos] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		p.pos++
		return nil
	case 'u':
		p.pos++
		for range 4 {
			if p.pos >= len(p.data) || !isHex(p.data[p.pos]) {
				return p.fail(l, "invalid \\u escape in string")
			}
			p.pos++
		}
		return nil
	}
	return p.fail(l, "invalid escape in string")
}

// number parses -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? and keeps its
// text, so an integer field can refuse 1.5 or 1e2 and nothing is rounded.
func (p *parser) number(l *loc) (any, error) {
	start := p.pos
	if p.data[p.pos] == '-' {
		p.pos++
	}
	switch {
	case p.pos < len(p.data) && p.data[p.pos] == '0':
		p.pos++
	case p.digits() == 0:
		return nil, p.unexpected(l, "a digit")
	}
	if p.pos < len(p.data) && p.data[p.pos] == '.' {
		p.pos++
		if p.digits() == 0 {
			return nil, p.unexpected(l, "a digit")
		}
	}
	if p.pos < len(p.data) && (p.data[p.pos] == 'e' || p.data[p.pos] == 'E') {
		p.pos++
		if p.pos < len(p.data) && (p.data[p.pos] == '+' || p.data[p.pos] == '-') {
			p.pos++
		}
		if p.digits() == 0 {
			return nil, p.unexpected(l, "a digit")
		}
	}
	return json.Number(p.data[start:p.pos]), nil
}

// digits skips decimal digits and returns how many there were.
func (p *parser) digits() int {
	n := 0
	for p.pos < len(p.data) && p.data[p.pos] >= '0' && p.data[p.pos] <= '9' {
		p.pos++
		n++
	}
	return n
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

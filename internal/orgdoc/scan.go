package orgdoc

import (
	"io"

	"github.com/verdict-pdp/verdict/internal/verr"
)

// scanner reads a JSON document from an io.Reader a window at a time, for
// documents too large to hold (Stream). It walks the skeleton of the
// document itself (the top-level object, the lists of elements, the members
// of a group) and hands each element's bytes, captured whole, to parser,
// which checks and parses it exactly as it does a whole document. Memory is
// the window plus the largest element. Syntax errors read as the parser's,
// with the same paths and document offsets.
type scanner struct {
	r      io.Reader
	ra     io.ReaderAt // when set: r reads ra from base on, and skip need not keep bytes
	buf    []byte      // the window: buf[pos:] is not consumed yet
	pos    int
	base   int64 // document offset of buf[0]
	eof    bool
	err    error       // a read error other than io.EOF
	onRead func(n int) // bytes read, for progress
	cap    []byte      // the bytes of the value being captured
}

// scanWindow is the size of a scanner's window (a variable for tests, which
// make it tiny to cross window edges everywhere).
var scanWindow = 256 << 10

func newScanner(r io.Reader, base int64, onRead func(int)) *scanner {
	return &scanner{r: r, buf: make([]byte, 0, scanWindow), base: base, onRead: onRead}
}

// offset is the document offset of the next byte.
func (s *scanner) offset() int64 { return s.base + int64(s.pos) }

// ensure reads until n bytes are unconsumed or the input ends; it reports
// whether n bytes are there.
func (s *scanner) ensure(n int) bool {
	for len(s.buf)-s.pos < n {
		if s.eof || s.err != nil {
			return false
		}
		rest := copy(s.buf[:cap(s.buf)], s.buf[s.pos:])
		s.base += int64(s.pos)
		s.pos = 0
		m, err := s.r.Read(s.buf[rest:cap(s.buf)])
		s.buf = s.buf[:rest+m]
		if s.onRead != nil && m > 0 {
			s.onRead(m)
		}
		switch {
		case err == io.EOF:
			s.eof = true
		case err != nil:
			s.err = err
		}
	}
	return true
}

// peek skips white space and returns the next byte; ok is false at the end
// of the input.
func (s *scanner) peek() (c byte, ok bool) {
	for {
		for s.pos < len(s.buf) {
			switch c := s.buf[s.pos]; c {
			case ' ', '\t', '\n', '\r':
				s.pos++
			default:
				return c, true
			}
		}
		if !s.ensure(1) {
			return 0, false
		}
	}
}

// is reports whether the next byte (after white space) is c.
func (s *scanner) is(c byte) bool {
	b, ok := s.peek()
	return ok && b == c
}

// unexpected reports what is at the current offset where want was expected.
func (s *scanner) unexpected(l *loc, want string) error {
	if s.err != nil {
		return s.err
	}
	s.ensure(4) // a whole rune for the message, if there is one
	return unexpectedAt(l, s.offset(), s.buf[s.pos:], want)
}

// capture consumes the value that starts at the next byte (white space
// skipped, a valid first byte checked by the caller), appending its bytes to
// s.cap when keep is set. It follows strings and brackets only: checking the
// value is the parser's job. It reports false when the brackets do not
// match, nest deeper than maxDepth (counting depth, the nesting of the value
// itself) or the input ends inside the value; the bytes up to and including
// the offending one are captured, so that the parser can tell exactly what
// is wrong.
func (s *scanner) capture(keep bool, depth int) bool {
	var stack []byte
	inStr, esc := false, false
	first := s.buf[s.pos]
	scalar := first != '"' && first != '{' && first != '['
	start := s.pos
	save := func() {
		if keep {
			s.cap = append(s.cap, s.buf[start:s.pos]...)
		}
	}
	for {
		if s.pos >= len(s.buf) {
			save()
			if !s.ensure(1) {
				return scalar && s.err == nil
			}
			start = s.pos
		}
		c := s.buf[s.pos]
		switch {
		case scalar:
			switch c {
			case ' ', '\t', '\n', '\r', ',', ']', '}', ':', '"', '[', '{':
				save()
				return true
			}
		case inStr:
			switch {
			case esc:
				esc = false
			case c == '\\':
				esc = true
			case c == '"':
				inStr = false
				if len(stack) == 0 {
					s.pos++
					save()
					return true
				}
			}
		default:
			switch c {
			case '"':
				inStr = true
			case '{', '[':
				if depth+len(stack) >= maxDepth {
					s.pos++
					save()
					return false
				}
				stack = append(stack, c)
			case '}', ']':
				if len(stack) == 0 || stack[len(stack)-1] != c-2 { // '{'+2 == '}', '['+2 == ']'
					s.pos++
					save()
					return false
				}
				stack = stack[:len(stack)-1]
				if len(stack) == 0 {
					s.pos++
					save()
					return true
				}
			}
		}
		s.pos++
	}
}

// valueStart reports whether c can start a JSON value.
func valueStart(c byte) bool {
	switch {
	case c == '{', c == '[', c == '"', c == '-', c == 't', c == 'f', c == 'n':
		return true
	}
	return c >= '0' && c <= '9'
}

// value parses the value at the next byte, at path l and nesting depth
// (the parser's: 1 for a member of the top-level object). parent and want
// say what the enclosing container expects after it, for the message when a
// scalar runs on ("truex").
func (s *scanner) value(l *loc, depth int, parent *loc, want string) (any, error) {
	c, ok := s.peek()
	if !ok || !valueStart(c) {
		return nil, s.unexpected(l, "a value")
	}
	off := s.offset()
	s.cap = s.cap[:0]
	s.capture(true, depth)
	if s.err != nil {
		return nil, s.err
	}
	defer s.release()
	return parseValue(s.cap, off, l, depth, parent, want)
}

// skip consumes the value at the next byte like value, without parsing it
// unless it is broken (then it returns the parser's error). With s.ra set,
// it keeps no bytes: a broken value is read again from s.ra.
func (s *scanner) skip(l *loc, depth int, parent *loc, want string) error {
	c, ok := s.peek()
	if !ok || !valueStart(c) {
		return s.unexpected(l, "a value")
	}
	off := s.offset()
	s.cap = s.cap[:0]
	if s.capture(s.ra == nil, depth) {
		s.release()
		return nil
	}
	if s.err != nil {
		return s.err
	}
	if s.ra != nil {
		again := newScanner(io.NewSectionReader(s.ra, off, 1<<62), off, nil)
		again.ensure(1)
		again.capture(true, depth)
		if again.err != nil {
			return again.err
		}
		s.cap = again.cap
	}
	_, err := parseValue(s.cap, off, l, depth, parent, want)
	if err == nil {
		err = syntaxError(l, off, "malformed value")
	}
	return err
}

// release drops a large capture buffer, so that one large element does not
// hold its size for the rest of the document.
func (s *scanner) release() {
	if cap(s.cap) > 4<<20 {
		s.cap = nil
	}
}

// parseValue parses data, one value found at document offset base, with
// the checks parseJSON makes of a whole document.
func parseValue(data []byte, base int64, l *loc, depth int, parent *loc, want string) (any, error) {
	if err := checkUTF8(data, base); err != nil {
		return nil, err
	}
	p := parser{data: data, base: base}
	v, err := p.value(l, depth)
	if err != nil {
		return nil, err
	}
	if p.pos < len(data) {
		return nil, unexpectedAt(parent, base+int64(p.pos), data[p.pos:], want)
	}
	return v, nil
}

// key reads an object key at the next byte (a '"'), l being the object.
func (s *scanner) key(l *loc) (string, error) {
	off := s.offset()
	s.cap = s.cap[:0]
	s.capture(true, 0)
	if s.err != nil {
		return "", s.err
	}
	if err := checkUTF8(s.cap, off); err != nil {
		return "", err
	}
	p := parser{data: s.cap, base: off}
	return p.str(l)
}

// object walks the object at the next byte (a '{') at path l: member is
// called for each member, the scanner at its value, and must consume it.
// Duplicate keys are refused as the parser refuses them.
func (s *scanner) object(l *loc, member func(k string, kl *loc) error) error {
	s.pos++ // '{'
	if s.is('}') {
		s.pos++
		return nil
	}
	seen := map[string]bool{}
	for {
		if !s.is('"') {
			return s.unexpected(l, "an object key")
		}
		k, err := s.key(l)
		if err != nil {
			return err
		}
		kl := l.child(k)
		if seen[k] {
			return verr.New(verr.InvalidInput, kl.String(), "duplicate key %q", k)
		}
		seen[k] = true
		if !s.is(':') {
			return s.unexpected(kl, "':'")
		}
		s.pos++
		if err := member(k, kl); err != nil {
			return err
		}
		c, ok := s.peek()
		switch {
		case ok && c == ',':
			s.pos++
		case ok && c == '}':
			s.pos++
			return nil
		default:
			return s.unexpected(l, "',' or '}'")
		}
	}
}

// array walks the list at the next byte (a '['), at path l: elem is called
// for each element, the scanner at it, and must consume it.
func (s *scanner) array(l *loc, elem func(i int, el *loc) error) error {
	s.pos++ // '['
	if s.is(']') {
		s.pos++
		return nil
	}
	for i := 0; ; i++ {
		if err := elem(i, l.elem(i)); err != nil {
			return err
		}
		c, ok := s.peek()
		switch {
		case ok && c == ',':
			s.pos++
		case ok && c == ']':
			s.pos++
			return nil
		default:
			return s.unexpected(l, "',' or ']'")
		}
	}
}

// list walks the value at the next byte as a list of elements (see array):
// null is an empty list, as strictDecode takes it, and anything else is
// refused as strictDecode refuses it. depth is the list's own nesting depth.
func (s *scanner) list(l *loc, depth int, parent *loc, want string, elem func(i int, el *loc) error) error {
	if s.is('[') {
		return s.array(l, elem)
	}
	raw, err := s.value(l, depth, parent, want)
	if err != nil || raw == nil {
		return err
	}
	return wrongType(l, "a list", raw)
}

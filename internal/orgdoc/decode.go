package orgdoc

import (
	"reflect"

	"github.com/verdict-pdp/verdict/internal/verr"
)

// DecodeOrg decodes and validates one org document. Every failure is a
// *verr.Error whose Field is the JSON path at fault: verr.InvalidInput for
// malformed JSON, an unknown field or a wrong type; verr.Invalid for a broken
// rule (see Validate). Paths are relative to the document ("users[3].status").
func DecodeOrg(data []byte) (*Org, error) {
	raw, err := parseJSON(data)
	if err != nil {
		return nil, err
	}
	var o Org
	if err := strictDecode(nil, raw, reflect.ValueOf(&o).Elem()); err != nil {
		return nil, err
	}
	if err := o.Validate(""); err != nil {
		return nil, err
	}
	return &o, nil
}

// DecodeCorpus decodes and validates a decision corpus (DESIGN.md §4), with
// the same error contract as DecodeOrg ("orgs[0].users[3].status").
func DecodeCorpus(data []byte) (*Corpus, error) {
	raw, err := parseJSON(data)
	if err != nil {
		return nil, err
	}
	var c Corpus
	if err := strictDecode(nil, raw, reflect.ValueOf(&c).Elem()); err != nil {
		return nil, err
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

// DecodeStrict decodes a JSON document into dst (a pointer to a struct) with
// the strict rules of DecodeOrg (unknown fields, wrong types and non-integers
// refused with the JSON path at fault) but no validation: for other formats
// built from the same parts (the 5.1 export of package migrate).
func DecodeStrict(data []byte, dst any) error {
	raw, err := parseJSON(data)
	if err != nil {
		return err
	}
	v := reflect.ValueOf(dst)
	if v.Kind() != reflect.Pointer || v.IsNil() {
		return verr.New(verr.Internal, "", "DecodeStrict needs a non-nil pointer, not %T", dst)
	}
	return strictDecode(nil, raw, v.Elem())
}

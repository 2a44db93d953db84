package admin

import (
	"github.com/verdict-pdp/verdict/internal/frontdoor"
	"github.com/verdict-pdp/verdict/internal/verr"
)

// Request bodies are read and decoded by the rules of every endpoint
// (internal/frontdoor): JSON only (415), bounded (413), one JSON value, no
// duplicate member, valid UTF-8, an unknown member (names match exactly)
// or a value of the wrong type refused with the field named, and no
// control character in an id or a name. A top-level "justification" string
// is taken out of any body and recorded in the audit entry.

// Body size caps.
const (
	maxBody    = 1 << 20  // 1 MiB
	maxOrgBody = 32 << 20 // 32 MiB: a whole org document
	maxJustLen = 1024     // an audit justification
)

// decodeStrict decodes a JSON object into dst (a pointer to a struct) and
// returns its "justification" member, if any.
func decodeStrict(data []byte, dst any) (string, error) {
	raw, err := frontdoor.Decode(data)
	if err != nil {
		return "", err
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
		if err := frontdoor.CheckProse("justification", s); err != nil {
			return "", err
		}
		just = s
		delete(obj, "justification")
	}
	return just, frontdoor.Bind(obj, dst)
}

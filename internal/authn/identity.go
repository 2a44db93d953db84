package authn

import (
	"sort"
	"strings"

	"github.com/verdict-pdp/verdict/internal/verr"
)

// Identity is what a verified token says about its bearer.
type Identity struct {
	// Subject is the IdP's user id (sub), never empty.
	Subject string
	// Org is the organization claim, "" if absent.
	Org string
	// DesignerUser is the designer flag, nil if the token does not say; the
	// engine then falls back to the user record (DESIGN rule 4).
	DesignerUser *bool
	// Attributes maps attribute keys to values, nil if the token has none
	// (the engine then uses the user record, rule 8).
	Attributes map[string][]string
	// Username is preferred_username, "" if absent.
	Username string
	// Claims holds every claim of the token as decoded JSON.
	Claims map[string]any
}

// identity reads Verdict's claims. A claim of the wrong type refuses the token
// rather than being ignored: ignoring an org or a designer flag the IdP did
// send would decide on facts other than the ones it asserted.
func (v *Verifier) identity(sub string, claims map[string]any) (*Identity, error) {
	if sub == "" {
		return nil, verr.New(verr.Unauthenticated, "", "token has no subject (sub)")
	}
	id := &Identity{Subject: sub, Claims: claims}
	var err error
	if id.Org, err = stringClaim(claims, v.cfg.OrgClaim); err != nil {
		return nil, err
	}
	if id.Username, err = stringClaim(claims, "preferred_username"); err != nil {
		return nil, err
	}
	if id.DesignerUser, err = boolClaim(claims, v.cfg.DesignerClaim); err != nil {
		return nil, err
	}
	if id.Attributes, err = attributesClaim(claims, v.cfg.AttributesClaim); err != nil {
		return nil, err
	}
	return id, nil
}

func claimError(name, want string) error {
	return verr.New(verr.Unauthenticated, "", "token claim %q must be %s", name, want)
}

// single unwraps a one-element list: Keycloak's user-attribute mapper emits
// one when "Multivalued" is on, which is an easy setting to flip.
func single(v any) any {
	if l, ok := v.([]any); ok && len(l) == 1 {
		return l[0]
	}
	return v
}

func stringClaim(claims map[string]any, name string) (string, error) {
	v, ok := claims[name]
	if !ok || v == nil {
		return "", nil
	}
	s, ok := single(v).(string)
	if !ok {
		return "", claimError(name, "a string")
	}
	return s, nil
}

// boolClaim accepts a JSON boolean or the strings "true"/"false" (any case):
// Keycloak user attributes are strings unless a mapper says otherwise.
func boolClaim(claims map[string]any, name string) (*bool, error) {
	v, ok := claims[name]
	if !ok || v == nil {
		return nil, nil
	}
	var b bool
	switch x := single(v).(type) {
	case bool:
		b = x
	case string:
		switch strings.ToLower(strings.TrimSpace(x)) {
		case "true":
			b = true
		case "false":
		default:
			return nil, claimError(name, `a boolean or "true"/"false"`)
		}
	default:
		return nil, claimError(name, `a boolean or "true"/"false"`)
	}
	return &b, nil
}

// attributesClaim reads an object whose values are a string or a list of
// strings. Values are kept in token order; an empty list stays empty (the
// key is present, with no values).
func attributesClaim(claims map[string]any, name string) (map[string][]string, error) {
	v, ok := claims[name]
	if !ok || v == nil {
		return nil, nil
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, claimError(name, "an object of strings or lists of strings")
	}
	out := make(map[string][]string, len(obj))
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	sort.Strings(keys) // the error names the same key every time
	for _, k := range keys {
		switch x := obj[k].(type) {
		case string:
			out[k] = []string{x}
		case []any:
			vals := make([]string, 0, len(x))
			for _, e := range x {
				s, ok := e.(string)
				if !ok {
					return nil, claimError(name+"."+k, "a string or a list of strings")
				}
				vals = append(vals, s)
			}
			out[k] = vals
		default:
			return nil, claimError(name+"."+k, "a string or a list of strings")
		}
	}
	return out, nil
}

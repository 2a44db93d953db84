package authzen

import (
	"encoding/json"

	"github.com/verdict-pdp/verdict/internal/verr"
)

// Search kinds (AuthZEN 1.0 search APIs).
const (
	SearchSubject  = "subject"
	SearchResource = "resource"
	SearchAction   = "action"
)

// Page is the paging of a search request.
type Page struct {
	Limit int
	Token string
}

// ParseSearch validates a search request of the given kind: the searched
// entity needs only its type (subject and resource search) or is absent
// (action search); everything else is required as in an evaluation. The
// request is kept whole, as an evaluation is, for extension policies.
func ParseSearch(kind string, data []byte) (*Request, Page, error) {
	v, err := Decode(data)
	if err != nil {
		return nil, Page{}, err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, Page{}, verr.New(verr.InvalidInput, "", "a request must be a JSON object")
	}
	r := &Request{raw: own(m)}
	delete(r.raw, "page")
	switch kind {
	case SearchSubject:
		r.Subject, err = entity(r.raw["subject"], "subject", false)
	default:
		r.Subject, err = subject(r.raw, "subject", true)
	}
	if err != nil {
		return nil, Page{}, err
	}
	if kind == SearchAction {
		r.Action = &Action{}
	} else if r.Action, err = action(r.raw, "action"); err != nil {
		return nil, Page{}, err
	}
	if r.Resource, err = entity(r.raw["resource"], "resource", kind != SearchResource); err != nil {
		return nil, Page{}, err
	}
	if r.Context, err = requestContext(r.raw, "context"); err != nil {
		return nil, Page{}, err
	}
	p, err := page(m["page"])
	return r, p, err
}

func page(v any) (Page, error) {
	p := Page{Limit: 100}
	if v == nil {
		return p, nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return p, verr.New(verr.InvalidInput, "page", "must be an object")
	}
	if l, present := m["limit"]; present {
		n, ok := l.(json.Number)
		i, err := n.Int64()
		if !ok || err != nil || i < 1 || i > 1000 {
			return p, verr.New(verr.InvalidInput, "page.limit", "must be an integer from 1 to 1000")
		}
		p.Limit = int(i)
	}
	if t, present := m["token"]; present {
		if p.Token, ok = t.(string); !ok {
			return p, verr.New(verr.InvalidInput, "page.token", "must be a string")
		}
	}
	return p, nil
}

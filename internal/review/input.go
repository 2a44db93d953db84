package review

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"

	"github.com/verdict-pdp/verdict/internal/orgdoc"
	"github.com/verdict-pdp/verdict/internal/store"
	"github.com/verdict-pdp/verdict/internal/verr"
)

// Input is one snapshot of an org: its document and the records kept apart.
type Input struct {
	Org      *orgdoc.Org
	Revision int64
	// Uninvited: user id -> the migration that created it uninvited.
	Uninvited map[string]store.UninvitedUser
	// Justifications: store.JustificationKey -> justification.
	Justifications map[string]store.Justification
	// DesignerIDs: store.JustificationKey -> the assignment's id in the
	// admin API (absent for a snapshot read from a file).
	DesignerIDs map[string]int64
}

// FromDocument is the snapshot of an org document read from a file: no
// justification, no uninvited user, no assignment ids.
func FromDocument(o *orgdoc.Org) *Input {
	return &Input{Org: o, Uninvited: map[string]store.UninvitedUser{}, Justifications: map[string]store.Justification{}, DesignerIDs: map[string]int64{}}
}

// Load reads an org's snapshot from the store.
func Load(ctx context.Context, st *store.Store, org string) (*Input, error) {
	o, rev, err := st.GetOrg(ctx, org)
	if err != nil {
		return nil, err
	}
	in := FromDocument(o)
	in.Revision = rev
	k := st.Keys(org)
	droles, err := st.ReadHash(ctx, org, k.DRoles())
	if err != nil {
		return nil, err
	}
	for sk, raw := range droles {
		var as []store.SeqAssignment
		if err := store.Decode(raw, &as); err != nil {
			return nil, err
		}
		for _, a := range as {
			in.DesignerIDs[store.JustificationKey(store.ParseSubjectKey(sk), a.Role, a.Scope)] = a.Seq
		}
	}
	un, err := st.ReadApart(ctx, k.Uninvited())
	if err != nil {
		return nil, err
	}
	for id, raw := range un {
		var u store.UninvitedUser
		if err := store.Decode(raw, &u); err != nil {
			return nil, err
		}
		in.Uninvited[id] = u
	}
	js, err := st.ReadApart(ctx, k.Justifications())
	if err != nil {
		return nil, err
	}
	for key, raw := range js {
		var j store.Justification
		if err := store.Decode(raw, &j); err != nil {
			return nil, err
		}
		in.Justifications[key] = j
	}
	return in, nil
}

func at(path string, i int) string { return fmt.Sprintf("%s[%d]", path, i) }

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// FromFile reads the snapshot of org from a file holding an org document,
// or a decision corpus whose orgs include it.
func FromFile(data []byte, org string) (*Input, error) {
	var probe struct {
		Orgs json.RawMessage `json:"orgs"`
	}
	if json.Unmarshal(data, &probe) == nil && probe.Orgs != nil {
		c, err := orgdoc.DecodeCorpus(data)
		if err != nil {
			return nil, err
		}
		for i := range c.Orgs {
			if c.Orgs[i].Org == org {
				return FromDocument(&c.Orgs[i]), nil
			}
		}
		return nil, verr.New(verr.NotFound, "org", "the corpus has no org %q", org)
	}
	o, err := orgdoc.DecodeOrg(data)
	if err != nil {
		return nil, err
	}
	if org != "" && o.Org != org {
		return nil, verr.New(verr.NotFound, "org", "the document is org %q, not %q", o.Org, org)
	}
	return FromDocument(o), nil
}

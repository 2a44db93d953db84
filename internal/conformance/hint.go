package conformance

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"

	"github.com/verdict-pdp/verdict/internal/decision"
)

// ReasonUnknownOrg is the reason of every answer about an org the PDP does
// not hold.
const ReasonUnknownOrg = "unknown_org"

// OrgCount is how a PDP answered the requests about one org.
type OrgCount struct {
	Answers    int // decisions received
	UnknownOrg int // of which denied with reason unknown_org
}

// OrgTally counts answers per org ("" for requests without context.org,
// which the server decides for its default org).
type OrgTally map[string]OrgCount

// Add counts one answer to a request about org.
func (t OrgTally) Add(org string, d decision.Decision) {
	c := t[org]
	c.Answers++
	if !d.Decision && d.Context["reason"] == ReasonUnknownOrg {
		c.UnknownOrg++
	}
	t[org] = c
}

// Merge adds u's counts to t.
func (t OrgTally) Merge(u OrgTally) {
	for org, c := range u {
		have := t[org]
		have.Answers += c.Answers
		have.UnknownOrg += c.UnknownOrg
		t[org] = have
	}
}

// Unknown returns, sorted, the orgs every one of whose answers was
// unknown_org: orgs the server does not hold. When expected is not nil only
// those orgs are considered (a corpus may ask about an unknown org on
// purpose, expecting unknown_org).
func (t OrgTally) Unknown(expected []string) []string {
	var out []string
	for org, c := range t {
		if c.Answers == 0 || c.UnknownOrg != c.Answers {
			continue
		}
		if expected != nil && !contains(expected, org) {
			continue
		}
		out = append(out, org)
	}
	sort.Strings(out)
	return out
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// RequestOrg returns an AuthZEN request's context.org ("" when absent or
// unreadable: the server's default org).
func RequestOrg(raw json.RawMessage) string {
	var r struct {
		Context struct {
			Org string `json:"org"`
		} `json:"context"`
	}
	_ = json.Unmarshal(raw, &r) // best effort: the org only names a hint
	return r.Context.Org
}

// HintUnknownOrgs tells the user, for each org the server at baseURL
// answered only unknown_org about, that it does not hold that org and how
// to import it. source names the file the org comes from ("" if none).
func HintUnknownOrgs(w io.Writer, baseURL, source string, t OrgTally, orgs []string) {
	for _, org := range orgs {
		c := t[org]
		name := fmt.Sprintf("org %q", org)
		if org == "" {
			name = "its default org (requests without context.org)"
		}
		fmt.Fprintf(w, "hint: the PDP at %s does not know %s: all %d of its answers were %s.\n", baseURL, name, c.Answers, ReasonUnknownOrg)
		file := source
		if file == "" {
			file = "ORG.json"
		}
		if org == "" {
			fmt.Fprintf(w, "      Import the org those requests are about and start the server with --default-org naming it, or put context.org in the requests.\n")
			continue
		}
		fmt.Fprintf(w, "      Import it first: verdict import %s --redis-url REDIS_URL (the central PDP's Redis),\n", file)
		fmt.Fprintf(w, "      or: curl -X PUT %s/admin/v1/orgs/%s -H 'Content-Type: application/json' --data-binary @ORG.json (an org document);\n", baseURL, org)
		fmt.Fprintf(w, "      an edge PDP needs a bundle of it (--bundle %s/bundles/%s/all.tar.gz on the central PDP).\n", "CENTRAL_URL", org)
	}
}

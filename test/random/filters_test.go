package random

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/verdict-pdp/verdict/internal/decision"
	"github.com/verdict-pdp/verdict/internal/orgdoc"
	"github.com/verdict-pdp/verdict/internal/pdp"
	"github.com/verdict-pdp/verdict/internal/testutil/orggen"
)

// Business filters (rule 8) are asked of every org for each of its filters
// and an unknown one, for every user and an unknown one. A filter case is an
// rcase whose request is {"filter": {org, user, filter}}.

func filterCases(orgs []*orgdoc.Org) []rcase {
	var out []rcase
	for _, o := range orgs {
		var seed uint64
		_, _ = fmt.Sscanf(o.Org, "rnd-%x", &seed)
		ids := []string{orggen.UnknownID}
		for _, f := range o.BusinessFilters {
			ids = append(ids, f.ID)
		}
		users := []string{orggen.UnknownUser}
		for _, u := range o.Users {
			users = append(users, u.ID)
		}
		for _, f := range ids {
			for _, u := range users {
				out = append(out, rcase{seed: seed, i: -1, org: o, req: orggen.Request{
					"filter": map[string]any{"org": o.Org, "user": u, "filter": f}}})
			}
		}
	}
	return out
}

func filterOf(req orggen.Request) (org, user, filter string) {
	f := obj(req, "filter")
	return str(f, "org"), str(f, "user"), str(f, "filter")
}

// filterOracle is rule 8 read plainly: the sorted, distinct union of the
// active user's own values for the filter's attribute and those of its
// groups; nil for an unknown filter.
func filterOracle(o *orgdoc.Org, user, filter string) *decision.Filter {
	i := slices.IndexFunc(o.BusinessFilters, func(f orgdoc.BusinessFilter) bool { return f.ID == filter })
	if i < 0 {
		return nil
	}
	bf := o.BusinessFilters[i]
	out := &decision.Filter{Field: bf.Field, Operator: "in", Values: []string{}}
	x := &oracle{o: o, req: orggen.Request{"subject": map[string]any{"type": "user", "id": user}}}
	if !x.active() {
		return out
	}
	vals := slices.Clone(x.user().Attributes[bf.Attribute])
	for _, g := range o.Groups {
		if slices.Contains(g.Members, user) {
			vals = append(vals, g.Attributes[bf.Attribute]...)
		}
	}
	slices.Sort(vals)
	out.Values = append(out.Values, slices.Compact(vals)...)
	return out
}

// filterOracleDiffers compares a filter answer (canonical JSON of the
// central PDP) with the oracle's.
func filterOracleDiffers(o *orgdoc.Org, req orggen.Request, got string) string {
	_, user, filter := filterOf(req)
	want := filterOracle(o, user, filter)
	var g map[string]any
	_ = json.Unmarshal([]byte(got), &g)
	if want == nil {
		if g["error"] == nil {
			return fmt.Sprintf("an unknown filter answers %s", got)
		}
		return ""
	}
	delete(g, "sql")
	gb, _ := json.Marshal(g)
	wb, _ := json.Marshal(want)
	var w map[string]any
	_ = json.Unmarshal(wb, &w)
	wb, _ = json.Marshal(w)
	if string(gb) != string(wb) {
		return fmt.Sprintf("the oracle (rule 8) answers %s, the PDP %s", wb, gb)
	}
	return ""
}

// filterInProcess answers a filter case with svc, in the PDPs' JSON shape
// without the SQL (an unknown filter: {"error": ...}).
func filterInProcess(svc *pdp.Service, req orggen.Request) string {
	org, user, filter := filterOf(req)
	f, err := svc.Filter(context.Background(), decision.FilterRequest{Org: org, User: user, Filter: filter})
	if err != nil {
		return `{"error":"` + err.Error() + `"}`
	}
	b, _ := json.Marshal(f)
	return string(b)
}

// checkFilters asks every filter case of the three evaluators and the
// oracle.
func (w *world) checkFilters(cases []rcase, f *failures) int {
	parallel(len(cases), func(i int) {
		c := cases[i]
		org, user, filter := filterOf(c.req)
		a, err := w.trio.AskFilter(org, user, filter)
		if err != nil {
			f.add("filter differential", c, "%v", err)
			return
		}
		if d := a.Diff(); d != "" {
			f.add("filter differential", c, "%s", d)
		}
		if msg := filterOracleDiffers(c.org, c.req, a.Central); msg != "" {
			f.add("filter oracle", c, "%s", msg)
		}
	})
	return len(cases)
}

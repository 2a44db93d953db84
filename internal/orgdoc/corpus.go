package orgdoc

import "strconv"

// Validate checks every org (at path "orgs[i]"), that org ids are unique
// across the corpus (evaluations name orgs by id), and that each evaluation
// and filter case carries what replaying it needs. It returns the first
// problem as a *verr.Error with Code verr.Invalid.
func (c *Corpus) Validate() error {
	if c == nil {
		return invalid("", "corpus is missing")
	}
	orgs := map[string]int{}
	for i := range c.Orgs {
		op := index("orgs", i)
		if err := c.Orgs[i].Validate(op); err != nil {
			return err
		}
		if j, dup := orgs[c.Orgs[i].Org]; dup {
			return invalid(field(op, "org"), "duplicate org id %q (also orgs[%s])", c.Orgs[i].Org, strconv.Itoa(j))
		}
		orgs[c.Orgs[i].Org] = i
	}
	for i, e := range c.Evaluations {
		ep := index("evaluations", i)
		if e.Name == "" {
			return invalid(field(ep, "name"), "name is required")
		}
		if len(e.Request) == 0 {
			return invalid(field(ep, "request"), "request is required")
		}
	}
	for i, f := range c.Filters {
		fp := index("filters", i)
		req := field(fp, "filter")
		switch {
		case f.Name == "":
			return invalid(field(fp, "name"), "name is required")
		case f.Filter.Org == "":
			return invalid(field(req, "org"), "org is required")
		case f.Filter.User == "":
			return invalid(field(req, "user"), "user is required")
		case f.Filter.Filter == "":
			return invalid(field(req, "filter"), "filter is required")
		case len(f.Expected) == 0:
			return invalid(field(fp, "expected"), "expected is required")
		}
	}
	return nil
}

package frontdoor

import (
	"github.com/verdict-pdp/verdict/internal/authn"
	"github.com/verdict-pdp/verdict/internal/orgdoc"
	"github.com/verdict-pdp/verdict/internal/verr"
)

// CheckOrgID refuses an org id that breaks the org id rule (orgdoc's): it
// names Redis keys and bundle paths, so it is checked before anything is
// read with it. field names where the id came from.
func CheckOrgID(field, org string) error {
	if !orgdoc.ValidOrgID(org) {
		// An error quotes at most the start of what it refuses: a 900 kB
		// org id is not echoed back.
		shown := org
		if len(shown) > 80 {
			shown = shown[:80] + "…"
		}
		return verr.New(verr.InvalidInput, field, "org id %q (%d bytes) must match %s", shown, len(org), orgdoc.OrgIDRule)
	}
	return nil
}

// Tenancy enforces rule 11 for a caller: id is the verified caller (nil when
// sign-in is off: the server has no tenancy to enforce), org the org the
// request is about, field where the request names it. A caller's org is its
// token's org claim, and only that one: a token without the claim asks about
// no org at all.
func Tenancy(id *authn.Identity, org, field string) error {
	if id == nil {
		return nil
	}
	if id.Org == "" {
		return verr.New(verr.Forbidden, "Authorization", "the caller's token carries no org claim: it may ask about no org")
	}
	if id.Org != org {
		return verr.New(verr.Forbidden, field, "the caller belongs to org %q, not %q", id.Org, org)
	}
	return nil
}

// SubjectTenancy is Tenancy for an end user's own token carried in a
// request (subject.properties.token): its org claim must be the request's
// org; a token without one is refused, as a caller's is.
func SubjectTenancy(id *authn.Identity, org, field string) error {
	if id.Org == "" {
		return verr.New(verr.Forbidden, field, "the subject's token carries no org claim")
	}
	if id.Org != org {
		return verr.New(verr.Forbidden, field, "the subject's token belongs to org %q, not %q", id.Org, org)
	}
	return nil
}

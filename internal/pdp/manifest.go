package pdp

import (
	"context"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/verdict-pdp/verdict/internal/authzen"
	"github.com/verdict-pdp/verdict/internal/decision"
	"github.com/verdict-pdp/verdict/internal/facts"
	"github.com/verdict-pdp/verdict/internal/verr"
)

var _ decision.Manifester = (*Service)(nil)

// ManifestInput renders a manifest request as the policies' input: the
// AuthZEN request for access to the solution, which the manifest policy
// varies item by item. A missing user, project or environment is refused
// with the field at fault.
func ManifestInput(m decision.ManifestRequest) (*authzen.Request, error) {
	for _, f := range [...]struct{ field, v string }{
		{"user", m.User}, {"project", m.Project}, {"environment", m.Environment},
	} {
		if f.v == "" {
			return nil, verr.New(verr.InvalidInput, f.field, "required")
		}
	}
	ctx := map[string]any{"org": m.Org, "environment": m.Environment}
	if m.Explain {
		ctx["explain"] = true
	}
	return &authzen.Request{
		Subject:  &authzen.Entity{Type: "user", ID: m.User},
		Action:   &authzen.Action{Name: "access"},
		Resource: &authzen.Entity{Type: "solution", ID: m.Project},
		Context:  ctx,
	}, nil
}

// Manifest answers the permission manifest of a user in a solution and
// environment from the facts of that one scope (the same facts a single
// decision on the solution reads) in one evaluation. It fails closed: with
// an error comes a manifest that grants nothing, whose decisions say why.
// The user is recorded as seen, as for a decision.
func (s *Service) Manifest(ctx context.Context, m decision.ManifestRequest) (decision.Manifest, error) {
	out, active, err := s.manifest(ctx, m, nil)
	if active && s.cfg.Seen != nil {
		s.cfg.Seen(out.Org, out.User)
	}
	return out, err
}

// Simulate answers the manifest as Manifest does, over a copy of the scope's
// facts that edit may change (the console's "test as a user": a group
// joined, a role shared, a user who does not exist). edit gets the org's
// decision data in the shape of docs/data-model.md as plain Go values; what
// it does never reaches the source. Nothing is recorded (no last_seen). An
// org that does not exist is not edited.
func (s *Service) Simulate(ctx context.Context, m decision.ManifestRequest, edit func(org map[string]any) error) (decision.Manifest, error) {
	out, _, err := s.manifest(ctx, m, edit)
	return out, err
}

func (s *Service) manifest(ctx context.Context, m decision.ManifestRequest, edit func(map[string]any) error) (decision.Manifest, bool, error) {
	if m.Org == "" {
		m.Org = s.cfg.DefaultOrg
	}
	fail := func(err error) (decision.Manifest, bool, error) { return decision.Denied(m, deny(err)), false, err }
	r, err := ManifestInput(m)
	if err != nil {
		return fail(err)
	}
	scope := ScopeOf(r)
	scope.Token = m.Token
	if err := scope.Validate(); err != nil {
		return fail(err)
	}
	in, err := r.Value()
	if err != nil {
		return fail(err)
	}
	f, err := s.source.Facts(ctx, scope)
	if err != nil {
		return fail(err)
	}
	value := f.Value
	if edit != nil && f.Known {
		if value, err = edited(value, m.Org, edit); err != nil {
			return fail(err)
		}
	}
	if !f.Served || edit != nil {
		value = s.withServed(ctx, scope, f, in, value, edit == nil)
	}
	out, err := s.engine.Manifest(ctx, in, value)
	if err != nil {
		return fail(err)
	}
	out.Org, out.User, out.Project, out.Environment = m.Org, m.User, m.Project, m.Environment
	if f.Stale > 0 {
		out.Stale, out.StaleAgeMS = true, f.Stale.Milliseconds()
	}
	return out, f.Active && edit == nil, nil
}

// withServed works out once what the subject is served in the scope (the
// build and rule, its roles, the designer bypass: verdict.served) and puts it
// beside the facts for the manifest's evaluation, so that each of its items
// reads it instead of working it out again; the central PDP also keeps it
// with its cached facts (keep), as a decision does. It is computed from
// exactly the facts it is put beside. Should the summary not be had, the
// facts are used as they are: each item then works it out itself.
func (s *Service) withServed(ctx context.Context, scope facts.Scope, f facts.Facts, in, value ast.Value, keep bool) ast.Value {
	if scope.Token != nil {
		return value
	}
	_, served, err := s.engine.DecideServed(ctx, in, value)
	if err != nil || served == nil {
		return value
	}
	if at, ok := s.source.(Attacher); ok && keep && f.Version != 0 {
		at.Attach(scope, f.Version, served)
	}
	top, ok := value.(ast.Object)
	if !ok {
		return value
	}
	t := top.Get(ast.StringTerm(scope.Org))
	if t == nil {
		return value
	}
	doc, ok := t.Value.(ast.Object)
	if !ok {
		return value
	}
	n := ast.NewObjectWithCapacity(doc.Len() + 1)
	doc.Foreach(func(k, v *ast.Term) { n.Insert(k, v) })
	n.Insert(ast.InternedTerm("served"), ast.NewTerm(served))
	return ast.NewObject([2]*ast.Term{ast.StringTerm(scope.Org), ast.NewTerm(n)})
}

// edited returns a changed copy of facts (the source's value is shared and
// immutable: it is converted to Go values, which are fresh, then back).
func edited(facts ast.Value, org string, edit func(map[string]any) error) (ast.Value, error) {
	v, err := ast.JSON(facts)
	if err != nil {
		return nil, verr.Wrap(verr.Internal, "", err, "copying facts: %v", err)
	}
	orgs, _ := v.(map[string]any)
	o, ok := orgs[org].(map[string]any)
	if !ok {
		return facts, nil
	}
	// What the subject is served, when kept with the facts, was worked out
	// from the facts as they were: the policies must work it out again.
	delete(o, "served")
	if err := edit(o); err != nil {
		return nil, err
	}
	out, err := ast.InterfaceToValue(orgs)
	if err != nil {
		return nil, verr.Wrap(verr.Internal, "", err, "edited facts: %v", err)
	}
	return out, nil
}

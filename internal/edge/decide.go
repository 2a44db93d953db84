package edge

import (
	"context"
	"sort"
	"strconv"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/sdk"
	"github.com/open-policy-agent/opa/v1/storage"
	"go.opentelemetry.io/otel/codes"

	"github.com/verdict-pdp/verdict/internal/authzen"
	"github.com/verdict-pdp/verdict/internal/bundle"
	"github.com/verdict-pdp/verdict/internal/decision"
	"github.com/verdict-pdp/verdict/internal/engine"
	"github.com/verdict-pdp/verdict/internal/facts"
	"github.com/verdict-pdp/verdict/internal/pdp"
	"github.com/verdict-pdp/verdict/internal/tracing"
	"github.com/verdict-pdp/verdict/internal/verr"
)

var _ decision.Decider = (*Edge)(nil)

// DefaultOrg is the org of requests that name none.
func (e *Edge) DefaultOrg() string { return e.cfg.DefaultOrg }

// route picks the bundle whose policies answer a request for org. An org no
// bundle holds is answered by another org's policies: they read
// data.verdict_data.orgs[context.org], find nothing and deny unknown_org, as
// the central PDP does. With no bundle active at all nothing can decide.
func (e *Edge) route(org string) (live, error) {
	v := e.view.Load()
	if l, ok := v.byOrg[org]; ok {
		return l, nil
	}
	if v.fallback == "" {
		return live{}, verr.New(verr.Unavailable, "", "no bundle is active on this edge yet")
	}
	return live{Org: v.fallback}, nil
}

// Evaluate decides one request at data.verdict.orgs[org].main.decision. It
// fails closed like the central PDP: an error is a deny whose context says
// why, and is returned too.
func (e *Edge) Evaluate(ctx context.Context, r *authzen.Request, tok *decision.Token) (decision.Decision, error) {
	r.WithDefaultOrg(e.cfg.DefaultOrg)
	in, err := r.Value()
	if err != nil {
		return deny(err), err
	}
	l, err := e.route(r.Org())
	if err != nil {
		return deny(err), err
	}
	if env := r.Environment(); l.Name != "" && env != "" && l.Env != bundle.AllEnvironments && env != l.Env {
		// The bundle holds one environment: deciding another with no data
		// for it would answer as if nothing were shared there.
		return decision.Decision{Context: map[string]any{"reason": "environment_not_on_edge",
			"error": "this edge holds environment " + strconv.Quote(l.Env) + " of org " + strconv.Quote(l.Org) + " only"}}, nil
	}
	v, err := e.eval(ctx, "verdict/orgs/"+l.Org+"/main/decision", in, r.Org(), tok)
	if err != nil {
		return deny(err), err
	}
	m, ok := v.(map[string]any)
	if !ok {
		err := verr.New(verr.PolicyError, "", "decision is not an object: %T", v)
		return deny(err), err
	}
	d := decision.Decision{}
	if d.Decision, ok = m["decision"].(bool); !ok {
		err := verr.New(verr.PolicyError, "", "decision.decision is not a boolean")
		return deny(err), err
	}
	d.Context, _ = m["context"].(map[string]any)
	return d, nil
}

// Query evaluates a data path as the policies name it ("verdict/search/
// resources"), at the org's own root. Decision data (verdict_data) is not
// served: an edge holds whole orgs, and the data API must not hand a caller
// every user of one.
func (e *Edge) Query(ctx context.Context, path string, r *authzen.Request, tok *decision.Token) (any, bool, error) {
	r.WithDefaultOrg(e.cfg.DefaultOrg)
	in, err := r.Value()
	if err != nil {
		return nil, false, err
	}
	l, err := e.route(r.Org())
	if err != nil {
		return nil, false, err
	}
	clean := strings.Trim(path, "/")
	var mapped string
	if rest, ok := strings.CutPrefix(clean, "verdict/orgs/"); ok {
		// A stock-OPA path: only the request's own org.
		if org, _, _ := strings.Cut(rest, "/"); org != r.Org() {
			return nil, false, verr.New(verr.Forbidden, "path", "%s is not a path of org %q", path, r.Org())
		}
		mapped = clean
	} else if mapped, ok = bundle.DataPath(l.Org, clean); !ok {
		return nil, false, verr.New(verr.Forbidden, "path", "an edge serves policy decisions, not decision data (%q)", path)
	}
	dp, err := e.resolve(ctx, mapped)
	if err != nil {
		return nil, false, err
	}
	v, err := e.evalData(ctx, dp.Key, in, r.Org(), tok)
	if err != nil || v == nil {
		return nil, false, err
	}
	v, found := engine.Lookup(v, dp.Rest)
	return v, found, nil
}

// Filter answers a business filter at data.verdict.orgs[org].filters.result.
func (e *Edge) Filter(ctx context.Context, f decision.FilterRequest) (decision.Filter, error) {
	if f.Org == "" {
		f.Org = e.cfg.DefaultOrg
	}
	in, err := pdp.FilterInput(f)
	if err != nil {
		return decision.Filter{}, err
	}
	l, err := e.route(f.Org)
	if err != nil {
		return decision.Filter{}, err
	}
	v, err := e.eval(ctx, "verdict/orgs/"+l.Org+"/filters/result", in, f.Org, f.Token)
	if err != nil {
		return decision.Filter{}, err
	}
	if v == nil {
		return decision.Filter{}, verr.New(verr.NotFound, "filter", "no such business filter")
	}
	m, _ := v.(map[string]any)
	out := decision.Filter{Values: []string{}}
	out.Field, _ = m["field"].(string)
	out.Operator, _ = m["operator"].(string)
	vals, _ := m["values"].([]any)
	for _, x := range vals {
		if s, ok := x.(string); ok {
			out.Values = append(out.Values, s)
		}
	}
	return out, nil
}

// FilterSQL translates a condition to SQL; the translation reads no facts,
// so a zero pdp.Service does it exactly as the central PDP does.
func (e *Edge) FilterSQL(ctx context.Context, f decision.Filter) (decision.SQL, error) {
	return (&pdp.Service{}).FilterSQL(ctx, f)
}

// SearchResources answers the ids of r's resource type the subject may act on.
func (e *Edge) SearchResources(ctx context.Context, r *authzen.Request, tok *decision.Token) ([]string, error) {
	return e.searchList(ctx, "verdict/search/resources", r, tok)
}

// SearchActions answers the actions the subject may take on r's resource.
func (e *Edge) SearchActions(ctx context.Context, r *authzen.Request, tok *decision.Token) ([]string, error) {
	return e.searchList(ctx, "verdict/search/actions", r, tok)
}

func (e *Edge) searchList(ctx context.Context, path string, r *authzen.Request, tok *decision.Token) ([]string, error) {
	return pdp.QueryList(ctx, e, path, r, tok)
}

// Subject search bounds, as on the central PDP.
const maxExamined = 5000

// SearchSubjects pages through the org's users (the bundle holds them all,
// in id order; the token is an offset) and decides each like an evaluation.
func (e *Edge) SearchSubjects(ctx context.Context, r *authzen.Request, limit int, token string) ([]string, string, error) {
	r.WithDefaultOrg(e.cfg.DefaultOrg)
	off := 0
	if token != "" {
		n, err := strconv.Atoi(token)
		if err != nil || n < 0 {
			return nil, "", verr.New(verr.InvalidInput, "page.token", "not a token of this search")
		}
		off = n
	}
	ids, err := e.userIDs(ctx, r.Org())
	if err != nil {
		return nil, "", err
	}
	var found []string
	for i := min(off, len(ids)); i < len(ids); i++ {
		q := *r
		q.Subject = &authzen.Entity{Type: "user", ID: ids[i]}
		d, err := e.Evaluate(ctx, &q, nil)
		if err != nil {
			return nil, "", err
		}
		if d.Decision {
			found = append(found, ids[i])
		}
		if len(found) == limit || i+1-off >= maxExamined {
			if i+1 < len(ids) {
				return found, strconv.Itoa(i + 1), nil
			}
			break
		}
	}
	return found, "", nil
}

// userIDs lists the user ids of an org's bundle, sorted.
func (e *Edge) userIDs(ctx context.Context, org string) ([]string, error) {
	if _, ok := e.view.Load().byOrg[org]; !ok {
		return nil, nil
	}
	var ids []string
	err := storage.Txn(ctx, e.mgr.Store, storage.TransactionParams{}, func(txn storage.Transaction) error {
		v, err := e.mgr.Store.Read(ctx, txn, storage.Path{"verdict_data", "orgs", org, "users"})
		if storage.IsNotFound(err) {
			return nil
		}
		if err != nil {
			return err
		}
		switch users := v.(type) {
		case ast.Object:
			users.Foreach(func(k, _ *ast.Term) {
				if s, ok := k.Value.(ast.String); ok {
					ids = append(ids, string(s))
				}
			})
		case map[string]any:
			for id := range users {
				ids = append(ids, id)
			}
		}
		return nil
	})
	if err != nil {
		return nil, verr.Wrap(verr.Internal, "", err, "reading users: %v", err)
	}
	sort.Strings(ids)
	return ids, nil
}

// eval evaluates a data path with the request as input. Without a subject
// token this is sdk.Decision (prepared queries cached per path). With one,
// the verified claims must be where the policies read them
// (data.verdict_data.orgs[org].verified_token) for this evaluation only: a
// `with` on a one-off query over OPA's own compiler and store does that
// without writing to the store.
func (e *Edge) eval(ctx context.Context, path string, in ast.Value, org string, tok *decision.Token) (any, error) {
	ctx, span := tracing.Child(ctx, "verdict.eval")
	v, err := e.evalIn(ctx, path, in, org, tok)
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, "evaluating policies")
	}
	span.End()
	return v, err
}

// evalIn is eval without its span.
func (e *Edge) evalIn(ctx context.Context, path string, in ast.Value, org string, tok *decision.Token) (any, error) {
	if tok == nil {
		res, err := e.opa.Decision(ctx, sdk.DecisionOptions{Path: path, Input: in})
		if sdk.IsUndefinedErr(err) {
			return nil, nil
		}
		if err != nil {
			return nil, verr.Wrap(verr.PolicyError, "", err, "evaluating policies: %v", err)
		}
		return res.Result, nil
	}
	ref := ast.DefaultRootRef.Copy()
	for _, seg := range strings.Split(path, "/") {
		ref = append(ref, ast.StringTerm(seg))
	}
	tv := facts.TokenTerm(tok)
	expr := ast.NewExpr(ast.NewTerm(ref))
	target := ast.MustParseRef("data.verdict_data.orgs").Append(ast.StringTerm(org)).Append(ast.StringTerm("verified_token"))
	expr.With = []*ast.With{{Target: ast.NewTerm(target), Value: tv}}
	rs, err := rego.New(
		rego.ParsedQuery(ast.NewBody(expr)),
		rego.Compiler(e.mgr.GetCompiler()),
		rego.Store(e.mgr.Store),
		rego.ParsedInput(in),
	).Eval(ctx)
	if err != nil {
		return nil, verr.Wrap(verr.PolicyError, "", err, "evaluating policies: %v", err)
	}
	if len(rs) == 0 || len(rs[0].Expressions) == 0 {
		return nil, nil
	}
	return rs[0].Expressions[0].Value, nil
}

func deny(err error) decision.Decision {
	e := verr.As(err)
	return decision.Decision{Decision: false, Context: map[string]any{"reason": string(e.Code), "error": e.Message}}
}

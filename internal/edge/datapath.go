package edge

import (
	"context"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/storage"
	"github.com/verdict-pdp/verdict/internal/decision"
	"github.com/verdict-pdp/verdict/internal/engine"
	"github.com/verdict-pdp/verdict/internal/lru"
	"github.com/verdict-pdp/verdict/internal/verr"
)

// dataPaths are the data API's prepared queries for one compiled policy set
// (OPA's compiler after an activation). The SDK's own query cache keeps one
// query per path it is asked, for as long as a bundle stays active: the data
// API does not go through it, so that what callers send stays bounded.
type dataPaths struct {
	compiler *ast.Compiler
	queries  *lru.Cache[rego.PreparedEvalQuery]
}

// resolve says what answers a data path (engine.DataPath), against the
// policies and data of the active bundles: a path they do not define is
// NotFound.
func (e *Edge) resolve(ctx context.Context, path string) (engine.DataPath, error) {
	base := func(p []string) bool {
		_, err := storage.ReadOne(ctx, e.mgr.Store, storage.Path(p))
		return err == nil
	}
	return engine.ResolveDataPath(e.mgr.GetCompiler().RuleTree, nil, base, path)
}

// PreparedDataPaths is how many data API queries are kept prepared (bounded
// by Config.DataPathsMax).
func (e *Edge) PreparedDataPaths() int {
	if p := e.paths.Load(); p != nil {
		return p.queries.Len()
	}
	return 0
}

// evalData evaluates data.<key> for the data API. With a subject token it is
// a one-off query (eval), nothing kept.
func (e *Edge) evalData(ctx context.Context, key []string, in ast.Value, org string, tok *decision.Token) (any, error) {
	if tok != nil {
		return e.eval(ctx, strings.Join(key, "/"), in, org, tok)
	}
	compiler := e.mgr.GetCompiler()
	p := e.paths.Load()
	if p == nil || p.compiler != compiler {
		// A new activation: queries prepared on the old policies go.
		p = &dataPaths{compiler: compiler, queries: lru.New[rego.PreparedEvalQuery](e.cfg.DataPathsMax)}
		e.paths.Store(p)
	}
	k := strings.Join(key, "/")
	q, ok := p.queries.Get(k)
	if !ok {
		ref := ast.DefaultRootRef.Copy()
		for _, seg := range key {
			ref = append(ref, ast.StringTerm(seg))
		}
		var err error
		q, err = rego.New(rego.ParsedQuery(ast.NewBody(ast.NewExpr(ast.NewTerm(ref)))), rego.Compiler(compiler),
			rego.Store(e.mgr.Store)).PrepareForEval(ctx)
		if err != nil {
			return nil, verr.Wrap(verr.InvalidInput, "path", err, "cannot query data.%s: %v", strings.Join(key, "."), err)
		}
		p.queries.Add(k, q)
	}
	rs, err := q.Eval(ctx, rego.EvalParsedInput(in))
	if err != nil {
		return nil, verr.Wrap(verr.PolicyError, "", err, "evaluating policies: %v", err)
	}
	if len(rs) == 0 || len(rs[0].Expressions) == 0 {
		return nil, nil
	}
	return rs[0].Expressions[0].Value, nil
}

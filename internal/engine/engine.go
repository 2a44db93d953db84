// Package engine evaluates decisions: it compiles the policies once into
// prepared queries and evaluates each request with its parsed AST input and the
// facts assembled for it. Policies are swapped atomically: a policy set that
// fails to compile is refused and the running one stays.
//
// An Engine is safe for concurrent use: evaluation reads the current compiled
// set through an atomic pointer; Load may run concurrently with evaluations.
package engine

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
	"sync/atomic"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/resolver"
	"github.com/open-policy-agent/opa/v1/storage"
	"github.com/open-policy-agent/opa/v1/storage/inmem"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/verdict-pdp/verdict/internal/decision"
	"github.com/verdict-pdp/verdict/internal/lru"
	"github.com/verdict-pdp/verdict/internal/tracing"
	"github.com/verdict-pdp/verdict/internal/verr"
)

// Config of an engine.
type Config struct {
	// Modules are Rego modules by file name (policyload.Load gives the
	// built-in ones plus extensions).
	Modules map[string]string
	// Data are extension data documents (never under verdict_data: the
	// facts are bound there per request).
	Data map[string]any
	// DataPathsMax bounds the prepared queries OPA's data API keeps per
	// policy set (default DefaultDataPathsMax; least recently used
	// forgotten). Only paths the policies define are ever prepared
	// (DataPath), so this is a second bound, on their number.
	DataPathsMax int
}

// Validate checks the configuration and fills defaults.
func (c *Config) Validate() error {
	if len(c.Modules) == 0 {
		return verr.New(verr.InvalidInput, "modules", "no policy modules")
	}
	if c.DataPathsMax < 0 {
		return verr.New(verr.InvalidInput, "data-paths-max", "must not be negative")
	}
	if c.DataPathsMax == 0 {
		c.DataPathsMax = DefaultDataPathsMax
	}
	return nil
}

// The queries the engine prepares. The caller's request is the input; the
// assembled facts are read where a bundle would hold them
// (data.verdict_data.orgs), so the same policies answer on the central PDP,
// on an edge and in stock OPA.
const (
	DecisionQuery = "data.verdict.main.decision"
	FilterQuery   = "data.verdict.filters.result"
	// ServedQuery is the decision and, in the same evaluation, what the
	// subject is served in the request's project and environment
	// (verdict.served), for the central PDP to keep with the facts.
	ServedQuery = "data.verdict.main.decision; data.verdict.served.summary"
)

// factsRef is where the policies read decision data.
var factsRef = ast.MustParseRef("data.verdict_data.orgs")

type factsKey struct{}

// factsResolver hands the policies the facts of the request being evaluated:
// OPA's external-data resolver for data.verdict_data.orgs, reading the value
// that eval put in the context. This binds per-request facts without a
// `with` rewrite (which cost about a third of a decision) and without a
// storage write.
type factsResolver struct{}

func (factsResolver) Eval(ctx context.Context, _ resolver.Input) (resolver.Result, error) {
	v, _ := ctx.Value(factsKey{}).(ast.Value)
	if v == nil {
		v = ast.NewObject()
	}
	return resolver.Result{Value: v}, nil
}

// Engine holds the current compiled policy set.
type Engine struct {
	cur      atomic.Pointer[compiled]
	pathsMax int
}

type compiled struct {
	decision rego.PreparedEvalQuery
	served   rego.PreparedEvalQuery
	filter   rego.PreparedEvalQuery
	manifest rego.PreparedEvalQuery
	revision string
	modules  map[string]string
	compiler *ast.Compiler
	store    storage.Store
	data     map[string]any // the base documents (never written)
	// paths holds the data API's prepared queries by DataPath key, prepared
	// on first use: keys are only paths the policies define, and at most
	// DataPathsMax of them are kept.
	paths *lru.Cache[rego.PreparedEvalQuery]
}

// New compiles cfg's modules.
func New(ctx context.Context, cfg Config) (*Engine, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	e := &Engine{pathsMax: cfg.DataPathsMax}
	if err := e.LoadWithData(ctx, cfg.Modules, cfg.Data); err != nil {
		return nil, err
	}
	return e, nil
}

// Load compiles modules and swaps them in; on error the running set stays.
func (e *Engine) Load(ctx context.Context, modules map[string]string) error {
	return e.LoadWithData(ctx, modules, nil)
}

// LoadWithData is Load with extension data documents.
func (e *Engine) LoadWithData(ctx context.Context, modules map[string]string, data map[string]any) error {
	c, err := compile(ctx, modules, data)
	if err != nil {
		return err
	}
	c.paths = lru.New[rego.PreparedEvalQuery](cmp.Or(e.pathsMax, DefaultDataPathsMax))
	e.cur.Store(c)
	return nil
}

// Revision identifies the running policy set (a hash of its modules).
func (e *Engine) Revision() string { return e.cur.Load().revision }

// Modules returns the running modules (do not modify).
func (e *Engine) Modules() map[string]string { return e.cur.Load().modules }

func compile(ctx context.Context, modules map[string]string, data map[string]any) (*compiled, error) {
	names := make([]string, 0, len(modules))
	for n := range modules {
		names = append(names, n)
	}
	sort.Strings(names)
	h := sha256.New()
	opts := []func(*rego.Rego){}
	for _, n := range names {
		fmt.Fprintf(h, "%s\x00%s\x00", n, modules[n])
		opts = append(opts, rego.Module(n, modules[n]))
	}
	compiler := ast.NewCompiler()
	c := &compiled{revision: hex.EncodeToString(h.Sum(nil))[:16], modules: modules, compiler: compiler}
	var err error
	// Every query shares one compiler, so the modules are compiled once.
	if data == nil {
		data = map[string]any{}
	}
	store := inmem.NewFromObjectWithOpts(data, inmem.OptReturnASTValuesOnRead(true))
	c.store = store
	c.data = data
	opts = append(opts, rego.Resolver(factsRef, factsResolver{}), rego.Store(store))
	c.decision, err = rego.New(append(opts, rego.Query(DecisionQuery), rego.Compiler(compiler))...).PrepareForEval(ctx)
	if err != nil {
		return nil, verr.Wrap(verr.PolicyError, "", err, "compiling policies: %v", err)
	}
	c.served, err = rego.New(rego.Query(ServedQuery), rego.Compiler(compiler), rego.Resolver(factsRef, factsResolver{}), rego.Store(store)).PrepareForEval(ctx)
	if err != nil {
		return nil, verr.Wrap(verr.PolicyError, "", err, "compiling policies: %v", err)
	}
	c.filter, err = rego.New(rego.Query(FilterQuery), rego.Compiler(compiler), rego.Resolver(factsRef, factsResolver{}), rego.Store(store)).PrepareForEval(ctx)
	if err != nil {
		return nil, verr.Wrap(verr.PolicyError, "", err, "compiling policies: %v", err)
	}
	c.manifest, err = rego.New(rego.Query(ManifestQuery), rego.Compiler(compiler), rego.Resolver(factsRef, factsResolver{}), rego.Store(store)).PrepareForEval(ctx)
	if err != nil {
		return nil, verr.Wrap(verr.PolicyError, "", err, "compiling policies: %v", err)
	}
	return c, nil
}

// Decide evaluates one request (an AuthZEN request as AST) with its facts (the
// value bound to data.verdict_data.orgs). An evaluation error is returned as a
// PolicyError; callers deny on any error.
func (e *Engine) Decide(ctx context.Context, request, facts ast.Value) (decision.Decision, error) {
	v, err := e.eval(ctx, e.cur.Load().decision, request, facts)
	if err != nil {
		return decision.Decision{}, err
	}
	return asDecision(v)
}

// DecideServed is Decide that also answers what the subject is served in
// the request's project and environment (verdict.served.summary), as AST, or
// nil when there is nothing to keep.
func (e *Engine) DecideServed(ctx context.Context, request, facts ast.Value) (decision.Decision, ast.Value, error) {
	ctx, span := tracing.Child(ctx, spanEval)
	rs, err := e.cur.Load().served.Eval(context.WithValue(ctx, factsKey{}, facts), rego.EvalParsedInput(request))
	endEval(span, err)
	if err != nil {
		return decision.Decision{}, nil, verr.Wrap(verr.PolicyError, "", err, "evaluating policies: %v", err)
	}
	if len(rs) == 0 || len(rs[0].Expressions) != 2 {
		return decision.Decision{}, nil, verr.New(verr.PolicyError, "", "no decision")
	}
	d, err := asDecision(rs[0].Expressions[0].Value)
	if err != nil {
		return d, nil, err
	}
	s, ok := rs[0].Expressions[1].Value.(map[string]any)
	if !ok {
		return d, nil, nil
	}
	v, err := ast.InterfaceToValue(s)
	if err != nil {
		return d, nil, verr.Wrap(verr.PolicyError, "", err, "summary: %v", err)
	}
	return d, v, nil
}

// asDecision reads the entry point's value.
func asDecision(v any) (decision.Decision, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return decision.Decision{}, verr.New(verr.PolicyError, "", "decision is not an object: %T", v)
	}
	d := decision.Decision{}
	d.Decision, ok = m["decision"].(bool)
	if !ok {
		return decision.Decision{}, verr.New(verr.PolicyError, "", "decision.decision is not a boolean")
	}
	d.Context, _ = m["context"].(map[string]any)
	return d, nil
}

// Filter evaluates a business filter for the subject of request (whose
// resource is {type: business_filter, id: <filter id>}). An unknown filter is
// NotFound.
func (e *Engine) Filter(ctx context.Context, request, facts ast.Value) (decision.Filter, error) {
	v, err := e.eval(ctx, e.cur.Load().filter, request, facts)
	if err != nil {
		return decision.Filter{}, err
	}
	if v == nil {
		return decision.Filter{}, verr.New(verr.NotFound, "filter", "no such business filter")
	}
	m, _ := v.(map[string]any)
	f := decision.Filter{Values: []string{}}
	f.Field, _ = m["field"].(string)
	f.Operator, _ = m["operator"].(string)
	vals, _ := m["values"].([]any)
	for _, x := range vals {
		if s, ok := x.(string); ok {
			f.Values = append(f.Values, s)
		}
	}
	return f, nil
}

// Query evaluates any document under data (OPA's data API): path is
// slash-separated ("verdict/main/decision"). found is false when the document
// is undefined. A path the policies do not define is NotFound (DataPath).
func (e *Engine) Query(ctx context.Context, path string, request, facts ast.Value) (any, bool, error) {
	c := e.cur.Load()
	dp, err := c.resolve(path)
	if err != nil {
		return nil, false, err
	}
	q, err := c.prepared(ctx, dp.Key)
	if err != nil {
		return nil, false, err
	}
	v, err := e.eval(ctx, q, request, facts)
	if err != nil || v == nil {
		return nil, false, err
	}
	v, found := Lookup(v, dp.Rest)
	return v, found, nil
}

// Known reports, as NotFound, a data path the running policies do not
// define (DataPath): the PDP checks it before reading any facts.
func (e *Engine) Known(path string) error {
	_, err := e.cur.Load().resolve(path)
	return err
}

// factsRoot is factsRef as a data path: the resolver's value, looked into
// like a rule's.
var factsRoot = [][]string{{"verdict_data", "orgs"}}

// resolve says what answers path (DataPath).
func (c *compiled) resolve(path string) (DataPath, error) {
	return ResolveDataPath(c.compiler.RuleTree, factsRoot, func(p []string) bool { return inData(c.data, p) }, path)
}

// PreparedDataPaths is how many data API queries the running policy set
// keeps prepared (bounded by Config.DataPathsMax).
func (e *Engine) PreparedDataPaths() int { return e.cur.Load().paths.Len() }

func (c *compiled) prepared(ctx context.Context, key []string) (rego.PreparedEvalQuery, error) {
	k := strings.Join(key, "/")
	if q, ok := c.paths.Get(k); ok {
		return q, nil
	}
	ref := ast.DefaultRootRef.Copy()
	for _, seg := range key {
		ref = append(ref, ast.StringTerm(seg))
	}
	q, err := rego.New(rego.ParsedQuery(ast.NewBody(ast.NewExpr(ast.NewTerm(ref)))), rego.Compiler(c.compiler),
		rego.Resolver(factsRef, factsResolver{}), rego.Store(c.store)).PrepareForEval(ctx)
	if err != nil {
		return q, verr.Wrap(verr.InvalidInput, "path", err, "cannot query data.%s: %v", strings.Join(key, "."), err)
	}
	c.paths.Add(k, q)
	return q, nil
}

// eval runs a prepared query and returns its single value (nil if undefined).
func (e *Engine) eval(ctx context.Context, q rego.PreparedEvalQuery, request, facts ast.Value) (any, error) {
	ctx, span := tracing.Child(ctx, spanEval)
	rs, err := q.Eval(context.WithValue(ctx, factsKey{}, facts), rego.EvalParsedInput(request))
	endEval(span, err)
	if err != nil {
		return nil, verr.Wrap(verr.PolicyError, "", err, "evaluating policies: %v", err)
	}
	if len(rs) == 0 || len(rs[0].Expressions) == 0 {
		return nil, nil
	}
	return rs[0].Expressions[0].Value, nil
}

// spanEval names the span of one policy evaluation (rego).
const spanEval = "verdict.eval"

// endEval ends an evaluation's span, marking it failed on an error.
func endEval(span trace.Span, err error) {
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, "evaluating policies")
	}
	span.End()
}

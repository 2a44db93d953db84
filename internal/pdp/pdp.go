// Package pdp is the decision path: request -> the subject's facts (from a
// Source) -> prepared query -> answer. It holds no state of its own beyond its
// configuration; the engine and the source carry their own concurrency rules
// (both are safe for concurrent use), so a Service is too.
package pdp

import (
	"cmp"
	"context"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"go.opentelemetry.io/otel/attribute"

	"github.com/verdict-pdp/verdict/internal/authzen"
	"github.com/verdict-pdp/verdict/internal/decision"
	"github.com/verdict-pdp/verdict/internal/engine"
	"github.com/verdict-pdp/verdict/internal/facts"
	"github.com/verdict-pdp/verdict/internal/tracing"
	"github.com/verdict-pdp/verdict/internal/verr"
)

// Config of a decision service.
type Config struct {
	// DefaultOrg answers requests that name no context.org ("" = none: such
	// requests are denied as unknown_org).
	DefaultOrg string
	// DecisionCache bounds the cache of answers to exact requests (0: 10000;
	// negative: off). It is used only with a Versioned facts source.
	DecisionCache int
	// Users lists an org's users for subject search (the store); nil: the
	// facts source lists them, if it can (in-memory documents).
	Users UserScanner
	// Seen, when set, is told the org and user of every decision about an
	// active user of a known org (last_seen); nothing else is recorded.
	Seen func(org, user string)
}

// Validate checks the configuration.
func (Config) Validate() error { return nil }

// Service decides requests.
type Service struct {
	cfg       Config
	engine    *engine.Engine
	source    facts.Source
	versions  Versioned
	decisions *decisionCache
}

// New returns a decision service.
func New(cfg Config, e *engine.Engine, src facts.Source) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Service{cfg: cfg, engine: e, source: src}
	if v, ok := src.(Versioned); ok && cfg.DecisionCache >= 0 {
		s.versions = v
		s.decisions = newDecisionCache(cmp.Or(cfg.DecisionCache, 10000))
	}
	return s, nil
}

// Engine returns the engine the service evaluates with.
func (s *Service) Engine() *engine.Engine { return s.engine }

// Revision names the running policies.
func (s *Service) Revision() string { return s.engine.Revision() }

// DefaultOrg is the org of requests that name none.
func (s *Service) DefaultOrg() string { return s.cfg.DefaultOrg }

// ScopeOf names the facts a request may read.
func ScopeOf(r *authzen.Request) facts.Scope {
	return facts.Scope{Org: r.Org(), Subject: r.SubjectID(), Project: r.Project(), Environment: r.Environment()}
}

// Evaluate decides one request; tok, when not nil, holds the verified claims
// of the subject's own token. It fails closed: when the facts cannot be read
// or the policies fail, the answer is a deny whose context says why, and the
// error is returned too for logs and metrics. A request naming ids longer
// than the facts' bounds is refused (InvalidInput) before anything is read.
func (s *Service) Evaluate(ctx context.Context, r *authzen.Request, tok *decision.Token) (decision.Decision, error) {
	d, active, err := s.evaluate(ctx, r, tok)
	if active && s.cfg.Seen != nil {
		s.cfg.Seen(r.Org(), r.SubjectID())
	}
	return d, err
}

// evaluate decides and reports whether the subject is an active user of a
// known org.
func (s *Service) evaluate(ctx context.Context, r *authzen.Request, tok *decision.Token) (decision.Decision, bool, error) {
	r.WithDefaultOrg(s.cfg.DefaultOrg)
	scope := ScopeOf(r)
	scope.Token = tok
	if err := scope.Validate(); err != nil {
		return deny(err), false, err
	}
	var key, rev string
	cacheable := s.decisions != nil && tok == nil && s.versions.Current()
	if cacheable {
		rev = s.engine.Revision()
		if key, cacheable = decisionKey(r); cacheable {
			if e, ok := s.decisions.get(key, s.versions.Version(r.Org()), rev, s.versions.MaxAge()); ok {
				if sp := tracing.Recording(ctx); sp != nil {
					sp.SetAttributes(attrDecisionCache.Bool(true))
				}
				return e.d, e.active, nil
			}
		}
	}
	// The policy input is built only for a decision that is evaluated: a
	// cached answer needs none (only requests that converted are cached).
	in, err := r.Value()
	if err != nil {
		return deny(err), false, err
	}
	f, err := s.source.Facts(ctx, scope)
	if sp := tracing.Recording(ctx); sp != nil {
		sp.SetAttributes(attrDecisionCache.Bool(false), attrFactsCache.Bool(f.Hit))
	}
	if err != nil {
		return deny(err), false, err
	}
	var d decision.Decision
	if at, ok := s.source.(Attacher); ok && (f.Hit || moreFollow(ctx)) && f.Version != 0 && !f.Served && scope.Token == nil &&
		scope.Subject != "" && scope.Project != "" && scope.Environment != "" {
		// The second decision of a (subject, project, environment) whose
		// facts are kept: a session is at work there; work out what the
		// subject is served once, and keep it with the facts for the
		// decisions that follow. (Not the first: traffic that never comes
		// back to a scope would pay for a summary nobody reads.)
		var served ast.Value
		d, served, err = s.engine.DecideServed(ctx, in, f.Value)
		if err == nil {
			at.Attach(scope, f.Version, served)
		}
	} else {
		d, err = s.engine.Decide(ctx, in, f.Value)
	}
	if err != nil {
		return deny(err), false, err
	}
	if f.Stale > 0 {
		d = markStale(d, f.Stale)
	}
	if cacheable && f.Version != 0 && f.Stale == 0 {
		s.decisions.put(key, cachedDecision{d: d, version: f.Version, rev: rev, active: f.Active, at: f.Read})
	}
	return d, f.Active, nil
}

// Attributes of the decision's span (the API's): whether the answer came
// from the decision cache, and whether the facts did from the facts cache
// (false: read from the store, under a verdict.facts.read span).
const (
	attrDecisionCache = attribute.Key("verdict.decision_cache.hit")
	attrFactsCache    = attribute.Key("verdict.facts_cache.hit")
)

// markStale says in an answer's context that its facts were cached ones
// answered while the store could not be reached, and how old they were.
func markStale(d decision.Decision, age time.Duration) decision.Decision {
	ctx := make(map[string]any, len(d.Context)+2)
	for k, v := range d.Context {
		ctx[k] = v
	}
	ctx["stale"] = true
	ctx["stale_age_ms"] = age.Milliseconds()
	d.Context = ctx
	return d
}

// DecisionCacheHits counts answers served from the decision cache.
func (s *Service) DecisionCacheHits() uint64 {
	if s.decisions == nil {
		return 0
	}
	return s.decisions.hits.Load()
}

// Query evaluates a data path (OPA's data API) for a request, with the facts
// its org, subject, project and environment name.
func (s *Service) Query(ctx context.Context, path string, r *authzen.Request, tok *decision.Token) (any, bool, error) {
	// A path no policy defines costs no facts read (docs/limits.md).
	if err := s.engine.Known(path); err != nil {
		return nil, false, err
	}
	r.WithDefaultOrg(s.cfg.DefaultOrg)
	in, err := r.Value()
	if err != nil {
		return nil, false, err
	}
	scope := ScopeOf(r)
	scope.Token = tok
	if r.Resource != nil && r.Resource.Type == "business_filter" {
		scope.Filter = r.Resource.ID
	}
	f, err := s.source.Facts(ctx, scope)
	if err != nil {
		return nil, false, err
	}
	return s.engine.Query(ctx, path, in, f.Value)
}

// FilterInput renders a filter request as the policies' input: an
// AuthZEN-shaped request whose resource is {type: business_filter, id:
// <filter>} (the same shape stock OPA is asked with at
// data.verdict.filters.result).
func FilterInput(f decision.FilterRequest) (ast.Value, error) {
	if f.Filter == "" {
		return nil, verr.New(verr.InvalidInput, "filter", "required")
	}
	r := &authzen.Request{
		Subject:  &authzen.Entity{Type: "user", ID: f.User},
		Action:   &authzen.Action{Name: "filter"},
		Resource: &authzen.Entity{Type: "business_filter", ID: f.Filter},
		Context:  map[string]any{"org": f.Org},
	}
	if f.User == "" {
		r.Subject = nil
	}
	return r.Value()
}

// Filter answers a business filter condition for a user.
func (s *Service) Filter(ctx context.Context, f decision.FilterRequest) (decision.Filter, error) {
	if f.Org == "" {
		f.Org = s.cfg.DefaultOrg
	}
	in, err := FilterInput(f)
	if err != nil {
		return decision.Filter{}, err
	}
	fs, err := s.source.Facts(ctx, facts.Scope{Org: f.Org, Subject: f.User, Filter: f.Filter, Token: f.Token})
	if err != nil {
		return decision.Filter{}, err
	}
	return s.engine.Filter(ctx, in, fs.Value)
}

// deny is the answer to a decision that could not be made: its reason is
// the error's code, and whatever the error names (the record that did not
// decode: key, field, path) is in the context too.
func deny(err error) decision.Decision {
	e := verr.As(err)
	ctx := map[string]any{"reason": string(e.Code), "error": e.Message}
	for k, v := range e.Detail {
		ctx[k] = v
	}
	return decision.Decision{Decision: false, Context: ctx}
}

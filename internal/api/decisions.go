package api

import (
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/verdict-pdp/verdict/internal/authzen"
	"github.com/verdict-pdp/verdict/internal/decision"
	"github.com/verdict-pdp/verdict/internal/pdp"
	"github.com/verdict-pdp/verdict/internal/verr"
)

func (s *Server) evaluation(c *gin.Context) {
	body, err := s.body(c)
	if err != nil {
		writeError(c, err)
		return
	}
	req, err := authzen.ParseRequest(body)
	if err != nil {
		writeError(c, err)
		return
	}
	d, err := s.decideOne(c, req, "")
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, d)
}

// decideOne is decide for a request of one decision: its id goes to the
// request's access log line and span.
func (s *Server) decideOne(c *gin.Context, req *authzen.Request, path string) (decision.Decision, error) {
	d, id, err := s.decideID(c, req, path, false)
	if id != "" {
		noteDecision(c, id)
		d = withDecisionID(d, id)
	}
	return d, err
}

// decide checks tenancy and the subject token, then decides. Errors are
// those of the request (401, 403); a failure while deciding is a deny whose
// context says why (fail closed).
func (s *Server) decide(c *gin.Context, req *authzen.Request, path string) (decision.Decision, error) {
	return s.decideWith(c, req, path, false)
}

// decideWith is decide; more says that other items of the request share
// this one's subject, project and environment (pdp.MoreFollow). The answer
// carries its decision id in context.decision_id when there is one.
func (s *Server) decideWith(c *gin.Context, req *authzen.Request, path string, more bool) (decision.Decision, error) {
	d, id, err := s.decideID(c, req, path, more)
	if id != "" {
		d = withDecisionID(d, id)
	}
	return d, err
}

// decideID decides and returns the decision's id ("" when decisions are
// neither logged nor traced).
func (s *Server) decideID(c *gin.Context, req *authzen.Request, path string, more bool) (decision.Decision, string, error) {
	req.WithDefaultOrg(defaultOrg(c, s.PDP.DefaultOrg()))
	if err := checkOrg(c, path+"context.org", req.Org()); err != nil {
		return decision.Decision{}, "", err
	}
	tok, err := s.subjectToken(c, req, path+"subject.properties.token")
	if err != nil {
		return decision.Decision{}, "", err
	}
	id := s.newDecisionID()
	start := time.Now()
	ctx, span := startDecision(c.Request.Context(), id, req)
	if more {
		ctx = pdp.MoreFollow(ctx)
	}
	d, derr := s.PDP.Evaluate(ctx, req, tok)
	endDecision(span, d, derr)
	if verr.CodeOf(derr) == verr.InvalidInput {
		// Refused before anything was read (an id past the bounds): the
		// request is at fault, not the PDP.
		return decision.Decision{}, "", derr
	}
	s.Metrics.observe(req.Resource.Type, d.Decision, derr, time.Since(start))
	if s.Decisions != nil {
		s.Decisions.Log(ctx, id, "verdict/main/decision", req, d, s.PDP.Revision())
	}
	return d, id, nil
}

// batch is an AuthZEN evaluations request.
type batchOptions struct {
	Semantic string
}

// Evaluations semantics (AuthZEN 1.0).
const (
	executeAll          = "execute_all"
	denyOnFirstDeny     = "deny_on_first_deny"
	permitOnFirstPermit = "permit_on_first_permit"
)

func (s *Server) evaluations(c *gin.Context) {
	body, err := s.body(c)
	if err != nil {
		writeError(c, err)
		return
	}
	v, err := authzen.Decode(body)
	if err != nil {
		writeError(c, err)
		return
	}
	top, ok := v.(map[string]any)
	if !ok {
		writeError(c, verr.New(verr.InvalidInput, "", "the body must be a JSON object"))
		return
	}
	opts, err := parseBatchOptions(top)
	if err != nil {
		writeError(c, err)
		return
	}
	items, present := top["evaluations"]
	list, isList := items.([]any)
	if present && items != nil && !isList {
		writeError(c, verr.New(verr.InvalidInput, "evaluations", "must be an array"))
		return
	}
	// No or empty evaluations: the body is one evaluation.
	if len(list) == 0 {
		req, err := authzen.FromValue(top, "")
		if err != nil {
			writeError(c, err)
			return
		}
		d, err := s.decideOne(c, req, "")
		if err != nil {
			writeError(c, err)
			return
		}
		// AuthZEN: without evaluations the request is a single evaluation,
		// answered as one.
		c.JSON(http.StatusOK, d)
		return
	}
	if len(list) > s.cfg.MaxBatch {
		writeError(c, verr.New(verr.InvalidInput, "evaluations", "at most %d evaluations per request", s.cfg.MaxBatch))
		return
	}
	var out []decision.Decision
	if opts.Semantic == executeAll {
		out, err = s.batchParallel(c, top, list)
	} else {
		out, err = s.batchSequential(c, top, list, opts.Semantic)
	}
	if err != nil {
		// A caller without the right to ask fails the whole request.
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"evaluations": out})
}

// batchSequential decides items in order, stopping as the semantic says.
func (s *Server) batchSequential(c *gin.Context, top map[string]any, list []any, semantic string) ([]decision.Decision, error) {
	out := make([]decision.Decision, 0, len(list))
	for i, item := range list {
		d, err := s.batchDecision(c, top, item, i)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
		if (semantic == denyOnFirstDeny && !d.Decision) || (semantic == permitOnFirstPermit && d.Decision) {
			break
		}
	}
	return out, nil
}

// batchParallel decides every item (execute_all) on as many goroutines as
// there are CPUs: items are independent, and a batch's latency is what its
// caller waits for. Answers keep the items' order.
//
// Items that share a subject, project and environment share its facts and
// what it is served there (the facts cache keeps both after the first
// decision): the first item of each such scope is decided first, the others
// after it, so that they read what it kept instead of each working it out.
func (s *Server) batchParallel(c *gin.Context, top map[string]any, list []any) ([]decision.Decision, error) {
	out := make([]decision.Decision, len(list))
	errs := make([]error, len(list))
	reqs := make([]*authzen.Request, len(list))
	followed := make([]bool, len(list))
	var first, rest []int
	leaders := map[[4]string]int{} // scope -> index of its first item
	for i, item := range list {
		reqs[i], errs[i] = s.batchParse(top, item, i)
		if errs[i] != nil {
			continue
		}
		r := reqs[i]
		r.WithDefaultOrg(defaultOrg(c, s.PDP.DefaultOrg()))
		key := [4]string{r.Org(), r.SubjectID(), r.Project(), r.Environment()}
		if lead, ok := leaders[key]; ok {
			followed[lead] = true
			rest = append(rest, i)
			continue
		}
		leaders[key] = i
		first = append(first, i)
	}
	for _, wave := range [][]int{first, rest} {
		var next atomic.Int64
		var wg sync.WaitGroup
		for range min(runtime.GOMAXPROCS(0), len(wave)) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for k := int(next.Add(1) - 1); k < len(wave); k = int(next.Add(1) - 1) {
					i := wave[k]
					out[i], errs[i] = s.batchDecided(s.decideWith(c, reqs[i], batchPath(i), followed[i]))
				}
			}()
		}
		wg.Wait()
	}
	for i, err := range errs {
		if err != nil {
			if d, fatal := s.batchDecided(decision.Decision{}, err); fatal != nil {
				return nil, fatal
			} else if reqs[i] == nil {
				out[i] = d
			}
		}
	}
	return out, nil
}

// batchDecided turns an item's error into its deny, except the caller's lack
// of rights (401, 403), which fails the whole batch.
func (s *Server) batchDecided(d decision.Decision, err error) (decision.Decision, error) {
	if err == nil {
		return d, nil
	}
	if code := verr.CodeOf(err); code == verr.Forbidden || code == verr.Unauthenticated {
		return d, err
	}
	e := verr.As(err)
	return decision.Decision{Decision: false, Context: map[string]any{"reason": string(e.Code), "error": e}}, nil
}

func batchPath(i int) string { return "evaluations[" + itoa(i) + "]." }

// batchDecision decides one item; an item's own error becomes its deny,
// except the caller's lack of rights (401, 403) and a malformed org id,
// which fail the whole batch: they are the same answer a single evaluation
// gets, never a deny that reads like a decision.
func (s *Server) batchDecision(c *gin.Context, top map[string]any, item any, i int) (decision.Decision, error) {
	return s.batchDecided(s.batchItem(c, top, item, i))
}

func parseBatchOptions(top map[string]any) (batchOptions, error) {
	o := batchOptions{Semantic: executeAll}
	raw, present := top["options"]
	if !present || raw == nil {
		return o, nil
	}
	m, ok := raw.(map[string]any)
	if !ok {
		return o, verr.New(verr.InvalidInput, "options", "must be an object")
	}
	if sem, present := m["evaluations_semantic"]; present {
		str, _ := sem.(string)
		switch str {
		case executeAll, denyOnFirstDeny, permitOnFirstPermit:
			o.Semantic = str
		default:
			e := verr.New(verr.InvalidInput, "options.evaluations_semantic", "unknown semantic %v", sem)
			e.Allowed = []string{executeAll, denyOnFirstDeny, permitOnFirstPermit}
			return o, e
		}
	}
	return o, nil
}

// batchItem merges an item with the batch defaults and decides it: an item's
// subject, action, resource and context override the top-level ones field by
// field (an item entity missing type or id takes the top-level one).
func (s *Server) batchItem(c *gin.Context, top map[string]any, item any, i int) (decision.Decision, error) {
	req, err := s.batchParse(top, item, i)
	if err != nil {
		return decision.Decision{}, err
	}
	return s.decide(c, req, batchPath(i))
}

// batchParse reads item i with the batch's defaults merged in.
func (s *Server) batchParse(top map[string]any, item any, i int) (*authzen.Request, error) {
	path := batchPath(i)
	m, ok := item.(map[string]any)
	if !ok {
		return nil, verr.New(verr.InvalidInput, path[:len(path)-1], "must be an object")
	}
	merged := map[string]any{}
	for _, k := range []string{"subject", "action", "resource", "context"} {
		merged[k] = mergeEntity(top[k], m[k])
	}
	return authzen.FromValue(merged, path)
}

func mergeEntity(def, over any) any {
	dm, dok := def.(map[string]any)
	om, ook := over.(map[string]any)
	switch {
	case over == nil:
		return def
	case !ook || !dok:
		return over
	}
	out := make(map[string]any, len(dm)+len(om))
	for k, v := range dm {
		out[k] = v
	}
	for k, v := range om {
		out[k] = v
	}
	return out
}

func itoa(i int) string {
	const digits = "0123456789"
	if i < 10 {
		return digits[i : i+1]
	}
	return itoa(i/10) + digits[i%10:i%10+1]
}

// Package conformance replays decision corpora (DESIGN.md §4) against a
// Decider, in-process or over HTTP, and reports each failure with its name,
// what was expected and what came back.
package conformance

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"reflect"

	"github.com/verdict-pdp/verdict/internal/decision"
	"github.com/verdict-pdp/verdict/internal/orgdoc"
)

// Decider answers corpus cases.
type Decider interface {
	// Evaluate answers a raw AuthZEN evaluation request.
	Evaluate(ctx context.Context, request json.RawMessage) (decision.Decision, error)
	// Filter answers a business filter case.
	Filter(ctx context.Context, f orgdoc.FilterRequest) (decision.Filter, error)
}

// Failure is one case that did not answer as expected.
type Failure struct {
	Name     string
	Expected string
	Actual   string
}

// Result of replaying corpora.
type Result struct {
	Passed   int
	Failures []Failure
}

// Run replays a corpus's evaluations and filters.
func Run(ctx context.Context, c *orgdoc.Corpus, d Decider) Result {
	var res Result
	for _, ev := range c.Evaluations {
		got, err := d.Evaluate(ctx, ev.Request)
		if err != nil {
			res.Failures = append(res.Failures, Failure{ev.Name, show(ev.Expected), "error: " + err.Error()})
			continue
		}
		if ok := matches(ev.Expected, got); ok {
			res.Passed++
		} else {
			res.Failures = append(res.Failures, Failure{ev.Name, show(ev.Expected), show(got)})
		}
	}
	for _, fc := range c.Filters {
		got, err := d.Filter(ctx, fc.Filter)
		if err != nil {
			res.Failures = append(res.Failures, Failure{fc.Name, string(fc.Expected), "error: " + err.Error()})
			continue
		}
		if filterMatches(fc.Expected, got) {
			res.Passed++
		} else {
			res.Failures = append(res.Failures, Failure{fc.Name, string(fc.Expected), show(got)})
		}
	}
	return res
}

// matches: decision must equal; every key under expected.context must equal.
func matches(exp orgdoc.Expected, got decision.Decision) bool {
	if exp.Decision != got.Decision {
		return false
	}
	for k, v := range exp.Context {
		if !jsonEqual(v, got.Context[k]) {
			return false
		}
	}
	return true
}

// filterMatches: every key of the expected answer must equal the answer's.
func filterMatches(expected json.RawMessage, got decision.Filter) bool {
	var exp map[string]any
	if err := json.Unmarshal(expected, &exp); err != nil {
		return false
	}
	b, _ := json.Marshal(got)
	var have map[string]any
	_ = json.Unmarshal(b, &have)
	for k, v := range exp {
		if !jsonEqual(v, have[k]) {
			return false
		}
	}
	return true
}

// jsonEqual compares two JSON-shaped values after a round trip, so numbers
// and types from different decoders compare alike.
func jsonEqual(a, b any) bool {
	var x, y any
	ab, _ := json.Marshal(a)
	bb, _ := json.Marshal(b)
	_ = json.Unmarshal(ab, &x)
	_ = json.Unmarshal(bb, &y)
	return reflect.DeepEqual(x, y)
}

func show(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// Report prints each failure then the last line "N passed, N failed".
func Report(w io.Writer, res Result) {
	for _, f := range res.Failures {
		fmt.Fprintf(w, "FAIL %s\n  expected: %s\n  actual:   %s\n", f.Name, f.Expected, f.Actual)
	}
	fmt.Fprintf(w, "%d passed, %d failed\n", res.Passed, len(res.Failures))
}

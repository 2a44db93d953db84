package engine_test

import (
	"context"
	"sync"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/verdict-pdp/verdict/internal/engine"
	"github.com/verdict-pdp/verdict/internal/verr"
	"github.com/verdict-pdp/verdict/policies"
)

const allowAll = `package verdict.main
decision := {"decision": true, "context": {"policy": "allow_all"}}
`

const denyAll = `package verdict.main
decision := {"decision": false, "context": {"policy": "deny_all"}}
`

func mustValue(t *testing.T, s string) ast.Value {
	t.Helper()
	v, err := ast.ParseTerm(s)
	if err != nil {
		t.Fatal(err)
	}
	return v.Value
}

func TestBuiltinPoliciesCompile(t *testing.T) {
	mods, err := policies.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	for name := range mods {
		if len(name) > 10 && name[len(name)-10:] == "_test.rego" {
			t.Errorf("Builtin includes test file %s", name)
		}
	}
	if _, err := engine.New(context.Background(), engine.Config{Modules: mods}); err != nil {
		t.Fatal(err)
	}
}

func TestBrokenPolicyIsRefusedAndRunningStays(t *testing.T) {
	ctx := context.Background()
	e, err := engine.New(ctx, engine.Config{Modules: map[string]string{"a.rego": allowAll}})
	if err != nil {
		t.Fatal(err)
	}
	rev := e.Revision()
	err = e.Load(ctx, map[string]string{"a.rego": "package verdict.main\ndecision := {"})
	if verr.CodeOf(err) != verr.PolicyError {
		t.Fatalf("broken policy: got %v, want a policy_error", err)
	}
	if e.Revision() != rev {
		t.Fatal("revision changed after a refused load")
	}
	d, err := e.Decide(ctx, mustValue(t, `{}`), mustValue(t, `{}`))
	if err != nil || !d.Decision || d.Context["policy"] != "allow_all" {
		t.Fatalf("running policy did not stay: %+v %v", d, err)
	}
}

func TestSwapIsAtomicUnderLoad(t *testing.T) {
	ctx := context.Background()
	e, err := engine.New(ctx, engine.Config{Modules: map[string]string{"a.rego": allowAll}})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	errs := make(chan error, 4)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				d, err := e.Decide(ctx, ast.NewObject(), ast.NewObject())
				// Every answer comes whole from one policy set or the other.
				if err != nil || (d.Decision != (d.Context["policy"] == "allow_all")) {
					errs <- err
					return
				}
			}
		}()
	}
	for i := range 50 {
		src := allowAll
		if i%2 == 0 {
			src = denyAll
		}
		if err := e.Load(ctx, map[string]string{"a.rego": src}); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("inconsistent decision during swap: %v", err)
	}
}

func TestNonObjectDecisionIsAnError(t *testing.T) {
	ctx := context.Background()
	e, err := engine.New(ctx, engine.Config{Modules: map[string]string{"a.rego": "package verdict.main\ndecision := 7\n"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Decide(ctx, ast.NewObject(), ast.NewObject()); verr.CodeOf(err) != verr.PolicyError {
		t.Fatalf("got %v, want policy_error", err)
	}
}

func TestEmptyConfigRefused(t *testing.T) {
	if _, err := engine.New(context.Background(), engine.Config{}); verr.CodeOf(err) != verr.InvalidInput {
		t.Fatalf("got %v", err)
	}
}

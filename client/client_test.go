package client_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/verdict-pdp/verdict/client"
	"github.com/verdict-pdp/verdict/internal/cmd/serve"
)

var prod = client.Context{"org": "demo", "environment": "prod"}

func review(component string) *client.Resource {
	return &client.Resource{Type: "component", ID: component, Properties: map[string]any{"project": "mortgage", "ui_flow": "review"}}
}

// TestMethods asks a central PDP (real Redis, the demo org) through every
// call of the client, with the answers docs/http-api.md shows.
func TestMethods(t *testing.T) {
	c := newClient(t, client.Config{BaseURL: startPDP(t, serve.Config{})})
	ctx := ctx(t)
	tom := &client.Subject{Type: "user", ID: "u-tom"}

	t.Run("evaluate", func(t *testing.T) {
		d, err := c.Evaluate(ctx, client.EvaluationRequest{
			Subject: &client.Subject{Type: "user", ID: "u-maria"}, Action: &client.Action{Name: "access"},
			Resource: &client.Resource{Type: "solution", ID: "mortgage"}, Context: prod})
		if err != nil || !d.Decision || d.Context["build"] != "m2" || d.Context["rule"] != "group_override" {
			t.Errorf("maria: %+v %v", d, err)
		}
		d, err = c.Evaluate(ctx, client.EvaluationRequest{Subject: tom, Action: &client.Action{Name: "view"}, Resource: review("approve"), Context: prod})
		if err != nil || d.Decision || d.Reason() != "component_hidden" || d.Context["state"] != "hidden" {
			t.Errorf("tom, approve: %+v %v", d, err)
		}
	})
	t.Run("evaluations", func(t *testing.T) {
		view := &client.Action{Name: "view"}
		res, err := c.Evaluations(ctx, client.EvaluationsRequest{Subject: tom, Context: prod, Evaluations: []client.EvaluationRequest{
			{Action: view, Resource: review("approve")}, {Action: view, Resource: review("comment")}}})
		if err != nil || len(res.Evaluations) != 2 || res.Evaluations[0].Decision || res.Evaluations[0].Context["state"] != "hidden" ||
			!res.Evaluations[1].Decision || res.Evaluations[1].Context["state"] != "disabled" {
			t.Errorf("execute_all: %+v %v", res, err)
		}
		res, err = c.Evaluations(ctx, client.EvaluationsRequest{Subject: tom, Context: prod,
			Options: &client.EvaluationsOptions{EvaluationsSemantic: client.DenyOnFirstDeny},
			Evaluations: []client.EvaluationRequest{
				{Action: &client.Action{Name: "access"}, Resource: &client.Resource{Type: "solution", ID: "mortgage"}},
				{Action: &client.Action{Name: "run"}, Resource: &client.Resource{Type: "flow", ID: "credit_check", Properties: map[string]any{"project": "mortgage"}}},
				{Action: &client.Action{Name: "launch"}, Resource: &client.Resource{Type: "ui_flow", ID: "review", Properties: map[string]any{"project": "mortgage"}}},
			}})
		if err != nil || len(res.Evaluations) != 2 || !res.Evaluations[0].Decision || res.Evaluations[1].Decision {
			t.Errorf("deny_on_first_deny: %+v %v", res, err)
		}
		// No items: the defaults are one evaluation, answered as a batch of one.
		res, err = c.Evaluations(ctx, client.EvaluationsRequest{Subject: tom, Context: prod, Action: view, Resource: review("comment")})
		if err != nil || len(res.Evaluations) != 1 || !res.Evaluations[0].Decision {
			t.Errorf("no items: %+v %v", res, err)
		}
	})
	t.Run("search subjects, paged", func(t *testing.T) {
		req := client.SearchRequest{Subject: &client.Subject{Type: "user"}, Action: &client.Action{Name: "launch"},
			Resource: &client.Resource{Type: "ui_flow", ID: "review", Properties: map[string]any{"project": "mortgage"}},
			Context:  prod, Page: &client.Page{Limit: 1}}
		var ids []string
		for range 10 { // bounded: three users, one per page
			res, err := c.SearchSubjects(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range res.Results {
				ids = append(ids, s.Type+":"+s.ID)
			}
			if res.Page.NextToken == "" {
				break
			}
			req.Page.Token = res.Page.NextToken
		}
		if want := []string{"user:u-ada", "user:u-lee", "user:u-tom"}; !reflect.DeepEqual(ids, want) {
			t.Errorf("subjects %v, want %v", ids, want)
		}
	})
	t.Run("search resources", func(t *testing.T) {
		res, err := c.SearchResources(ctx, client.SearchRequest{Subject: tom, Action: &client.Action{Name: "launch"},
			Resource: &client.Resource{Type: "ui_flow", Properties: map[string]any{"project": "mortgage"}}, Context: prod})
		if err != nil || !reflect.DeepEqual(res.Results, []client.Resource{{Type: "ui_flow", ID: "apply"}, {Type: "ui_flow", ID: "review"}}) || res.Page.NextToken != "" {
			t.Errorf("resources: %+v %v", res, err)
		}
	})
	t.Run("search actions", func(t *testing.T) {
		res, err := c.SearchActions(ctx, client.SearchRequest{Subject: &client.Subject{Type: "user", ID: "u-lee"},
			Resource: &client.Resource{Type: "project", ID: "mortgage"}, Context: client.Context{"org": "demo"}})
		if err != nil || !reflect.DeepEqual(res.Results, []client.Action{{Name: "edit"}, {Name: "manage_access"}, {Name: "read"}}) {
			t.Errorf("actions: %+v %v", res, err)
		}
	})
	t.Run("filter", func(t *testing.T) {
		f, err := c.Filter(ctx, "applications_by_branch", client.FilterRequest{Org: "demo", User: "u-tom"})
		want := client.Filter{Field: "applications.branch", Operator: "in", Values: []string{"harbour", "north"},
			SQL: client.SQL{Dialect: "postgresql", Where: "WHERE applications.branch IN (E'harbour', E'north')"}}
		if err != nil || !reflect.DeepEqual(f, want) {
			t.Errorf("filter: %+v %v", f, err)
		}
		_, err = c.Filter(ctx, "no_such_filter", client.FilterRequest{User: "u-tom"})
		var e *client.Error
		if !errors.As(err, &e) || e.StatusCode != 404 || e.Code != client.CodeNotFound || e.Field != "filter" || !client.IsCode(err, client.CodeNotFound) {
			t.Errorf("unknown filter: %#v", err)
		}
	})
	t.Run("manifest", func(t *testing.T) {
		m, err := c.Manifest(ctx, client.ManifestRequest{User: "u-tom", Project: "mortgage", Environment: "prod"})
		if err != nil || !m.Access.Decision || m.Build != "m1" || m.UIFlows["review"].Components["approve"].Context["state"] != "hidden" ||
			m.Processes["application"].Swimlanes["customer"]["execute"].Decision || m.Flows.Listed["credit_check"].Decision || !m.Flows.Others.Decision {
			t.Errorf("manifest: %+v %v", m, err)
		}
	})
	t.Run("data", func(t *testing.T) {
		res, err := c.Data(ctx, "verdict/search/actions", client.EvaluationRequest{Subject: &client.Subject{Type: "user", ID: "u-lee"},
			Resource: &client.Resource{Type: "project", ID: "mortgage"}, Context: client.Context{"org": "demo"}})
		if err != nil || string(res.Result) != `["edit","manage_access","read"]` {
			t.Errorf("data: %s %v", res.Result, err)
		}
		// Below a rule, a lookup into its value: undefined is no result.
		res, err = c.Data(ctx, "verdict/search/actions/no/such", map[string]any{})
		if err != nil || res.Result != nil {
			t.Errorf("undefined below a rule: %s %v", res.Result, err)
		}
		// A path no policy defines is a 404 naming the path (docs/limits.md).
		_, err = c.Data(ctx, "verdict/no/such/rule", map[string]any{})
		var e *client.Error
		if !errors.As(err, &e) || e.StatusCode != 404 || e.Field != "path" {
			t.Errorf("unknown path: %v", err)
		}
	})
	t.Run("refused request", func(t *testing.T) {
		_, err := c.Evaluate(ctx, client.EvaluationRequest{Subject: &client.Subject{Type: "user"}, Action: &client.Action{Name: "access"},
			Resource: &client.Resource{Type: "solution", ID: "mortgage"}, Context: prod})
		var e *client.Error
		if !errors.As(err, &e) || e.StatusCode != 400 || e.Code != client.CodeInvalidInput || e.Field != "subject.id" ||
			!strings.Contains(err.Error(), "HTTP 400: invalid_input: subject.id") {
			t.Errorf("a subject without id: %#v", err)
		}
	})
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		cfg  client.Config
		fail string
	}{
		{client.Config{}, "BaseURL is required"},
		{client.Config{BaseURL: "127.0.0.1:8181"}, "not an http"},
		{client.Config{BaseURL: "ftp://x"}, "not an http"},
		{client.Config{BaseURL: "http://x", Timeout: -1}, "must not be negative"},
		{client.Config{BaseURL: "http://x", MinBackoff: time.Second, MaxBackoff: time.Millisecond}, "MaxBackoff"},
		{client.Config{BaseURL: "http://x", TLS: newTLS()}, "not https"},
	} {
		if err := tc.cfg.Validate(); err == nil || !strings.Contains(err.Error(), tc.fail) {
			t.Errorf("%+v: %v, want %q", tc.cfg, err, tc.fail)
		}
	}
	cfg := client.Config{BaseURL: "http://127.0.0.1:8181/"}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if cfg.BaseURL != "http://127.0.0.1:8181" || cfg.Timeout != 10*time.Second || cfg.Retries != 2 || cfg.MaxConns != 64 {
		t.Errorf("defaults: %+v", cfg)
	}
	cfg = client.Config{BaseURL: "http://x", Retries: -1}
	if err := cfg.Validate(); err != nil || cfg.Retries != 0 {
		t.Errorf("no retries: %d %v", cfg.Retries, err)
	}
}

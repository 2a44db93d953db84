package client_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/verdict-pdp/verdict/client"
)

// A service asking the PDP `make run` starts (http://127.0.0.1:8181, the
// demo org, sign-in off) whether users may open a solution. Here devURL is
// that PDP, started in-process by the test like `make run`.
func Example() {
	pdp, err := client.New(client.Config{BaseURL: devURL, Timeout: 2 * time.Second})
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	for _, user := range []string{"u-maria", "u-sam"} {
		d, err := pdp.Evaluate(ctx, client.EvaluationRequest{
			Subject:  &client.Subject{Type: "user", ID: user},
			Action:   &client.Action{Name: "access"},
			Resource: &client.Resource{Type: "solution", ID: "mortgage"},
			Context:  client.Context{"org": "demo", "environment": "prod"},
		})
		if err != nil {
			log.Fatal(err) // refused (*client.Error) or unreachable
		}
		if d.Decision {
			fmt.Printf("%s may open mortgage: build %v\n", user, d.Context["build"])
		} else {
			fmt.Printf("%s may not open mortgage: %s\n", user, d.Reason())
		}
	}
	// Output:
	// u-maria may open mortgage: build m2
	// u-sam may not open mortgage: subject_not_active
}

// A screen's components in one round trip: a batch whose items share the
// subject and context.
func ExampleClient_Evaluations() {
	pdp, err := client.New(client.Config{BaseURL: devURL})
	if err != nil {
		log.Fatal(err)
	}
	view := &client.Action{Name: "view"}
	component := func(id string) *client.Resource {
		return &client.Resource{Type: "component", ID: id, Properties: map[string]any{"project": "mortgage", "ui_flow": "review"}}
	}
	res, err := pdp.Evaluations(context.Background(), client.EvaluationsRequest{
		Subject: &client.Subject{Type: "user", ID: "u-tom"},
		Context: client.Context{"org": "demo", "environment": "prod"},
		Evaluations: []client.EvaluationRequest{
			{Action: view, Resource: component("approve")},
			{Action: view, Resource: component("comment")},
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	for i, id := range []string{"approve", "comment"} {
		fmt.Println(id, res.Evaluations[i].Context["state"])
	}
	// Output:
	// approve hidden
	// comment disabled
}

// Which rows a user may see, as a SQL condition.
func ExampleClient_Filter() {
	pdp, err := client.New(client.Config{BaseURL: devURL})
	if err != nil {
		log.Fatal(err)
	}
	f, err := pdp.Filter(context.Background(), "applications_by_branch", client.FilterRequest{User: "u-tom"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(f.Values)
	fmt.Println(f.SQL.Where)
	// Output:
	// [harbour north]
	// WHERE applications.branch IN (E'harbour', E'north')
}

// Paging through a search: who may launch the review flow in prod.
func ExampleClient_SearchSubjects() {
	pdp, err := client.New(client.Config{BaseURL: devURL})
	if err != nil {
		log.Fatal(err)
	}
	req := client.SearchRequest{
		Subject:  &client.Subject{Type: "user"},
		Action:   &client.Action{Name: "launch"},
		Resource: &client.Resource{Type: "ui_flow", ID: "review", Properties: map[string]any{"project": "mortgage"}},
		Context:  client.Context{"org": "demo", "environment": "prod"},
		Page:     &client.Page{Limit: 2},
	}
	for {
		res, err := pdp.SearchSubjects(context.Background(), req)
		if err != nil {
			log.Fatal(err)
		}
		for _, s := range res.Results {
			fmt.Println(s.ID)
		}
		if res.Page.NextToken == "" {
			break
		}
		req.Page.Token = res.Page.NextToken
	}
	// Output:
	// u-ada
	// u-lee
	// u-tom
}

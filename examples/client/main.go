// A service written against Verdict's Go client: it asks the PDP that
// `make run` starts (http://127.0.0.1:8181, the demo org, sign-in off)
// whether Maria may open the mortgage solution, which components of the
// review screen Tom sees, and which rows Tom may read.
//
//	make run                  # in one terminal
//	go run ./examples/client  # in another
package main

import (
	"context"
	"fmt"
	"io"
	"log"
	"os"
	"time"

	"github.com/verdict-pdp/verdict/client"
)

func main() {
	base := os.Getenv("VERDICT_URL")
	if base == "" {
		base = "http://127.0.0.1:8181" // make run
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := run(ctx, base, os.Stdout); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, base string, out io.Writer) error {
	pdp, err := client.New(client.Config{
		BaseURL: base,
		Timeout: 2 * time.Second, // per attempt; 2 retries on 429/502/503/504 and network errors
		// Tokens: client.StaticToken(os.Getenv("VERDICT_TOKEN")), // a PDP with --auth oidc
	})
	if err != nil {
		return err
	}
	prod := client.Context{"org": "demo", "environment": "prod"}

	// One decision.
	d, err := pdp.Evaluate(ctx, client.EvaluationRequest{
		Subject:  &client.Subject{Type: "user", ID: "u-maria"},
		Action:   &client.Action{Name: "access"},
		Resource: &client.Resource{Type: "solution", ID: "mortgage"},
		Context:  prod,
	})
	if err != nil {
		return err // refused (*client.Error: status, code, field) or unreachable
	}
	fmt.Fprintf(out, "maria may open mortgage: %v (build %v)\n", d.Decision, d.Context["build"])

	// A screen's components in one round trip.
	view := &client.Action{Name: "view"}
	component := func(id string) *client.Resource {
		return &client.Resource{Type: "component", ID: id, Properties: map[string]any{"project": "mortgage", "ui_flow": "review"}}
	}
	batch, err := pdp.Evaluations(ctx, client.EvaluationsRequest{
		Subject: &client.Subject{Type: "user", ID: "u-tom"},
		Context: prod,
		Evaluations: []client.EvaluationRequest{
			{Action: view, Resource: component("approve")},
			{Action: view, Resource: component("comment")},
		},
	})
	if err != nil {
		return err
	}
	for i, id := range []string{"approve", "comment"} {
		fmt.Fprintf(out, "tom sees %s: %v\n", id, batch.Evaluations[i].Context["state"])
	}

	// The rows Tom may read, as SQL.
	f, err := pdp.Filter(ctx, "applications_by_branch", client.FilterRequest{Org: "demo", User: "u-tom"})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "tom reads: %s\n", f.SQL.Where)
	return nil
}

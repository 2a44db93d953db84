// Package client is the Go client of a Verdict PDP (`verdict serve` or
// `verdict edge`, or any AuthZEN 1.0 PDP for the AuthZEN calls): single and
// batched evaluations, the three AuthZEN searches, business filters,
// permission manifests and OPA's data API, with per-attempt timeouts,
// retries with backoff (decisions are reads: every call is safe to retry),
// TLS and mutual TLS, and a bearer token from a TokenSource.
//
//	c, err := client.New(client.Config{BaseURL: "http://127.0.0.1:8181"})
//	...
//	d, err := c.Evaluate(ctx, client.EvaluationRequest{
//		Subject:  &client.Subject{Type: "user", ID: "u-maria"},
//		Action:   &client.Action{Name: "access"},
//		Resource: &client.Resource{Type: "solution", ID: "mortgage"},
//		Context:  client.Context{"org": "demo", "environment": "prod"},
//	})
//	if err != nil { ... }  // the call failed: *client.Error, or a network error
//	if d.Decision { ... }  // allowed; d.Reason() says why not otherwise
//
// A failure to decide inside the PDP is not an error: it is a deny whose
// context names the reason ("unavailable", "facts_invalid", ...), exactly
// as the HTTP API answers it. An error is a refused request (*Error, with
// the HTTP status and the server's code and field) or a network failure
// that outlasted the retries.
//
// The package depends on the standard library and golang.org/x/oauth2
// only, never on Verdict's internal packages: the request and answer types
// here are its own, in the shapes of docs/http-api.md.
//
// A Client is safe for concurrent use by many goroutines and should be
// reused: it holds a pool of connections. Request values are owned by the
// caller and are not kept after a call returns.
package client

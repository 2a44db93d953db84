// Package openapi holds Verdict's OpenAPI 3.1 description of its HTTP API,
// written by hand in openapi.yaml (embedded) and served as JSON at
// GET /openapi.json by the central PDP and by the edge.
//
// # One document, two servers
//
// Every operation names the servers that answer it in x-verdict-servers
// (central, edge). The central PDP serves the whole document (Central); an
// edge serves a copy holding only its own operations (Edge): a client
// reading an edge's /openapi.json sees what that edge answers, no admin API
// and no bundles. The access console (/console/…) is not described: it is
// server-rendered HTML with forms and CSRF tokens for people, not an API
// (the route test in this package lists it as the one exclusion).
//
// # Kept true by tests
//
//   - The route test (routes_test.go) walks the Gin routes of a real central
//     PDP and of a real edge, plus the bundle route (bundle.Route), and
//     requires each method and path to be in the document, and every
//     operation of the document to be a route.
//   - internal/testutil/apispec validates real requests and responses
//     against the document with kin-openapi's openapi3filter; the API tests
//     of test/ and the curl examples of docs/http-api.md
//     (internal/cmd/serve) run through it, and test/openapi_test.go replays
//     a request per operation, error statuses included.
//   - docs/openapi.md is rendered from the document (Markdown); TestDoc
//     fails when it is out of date (go test ./internal/openapi -run TestDoc
//     -update rewrites it).
//
// # Why kin-openapi, and what of 3.1 is used
//
// github.com/getkin/kin-openapi (MIT, the most used Go OpenAPI library, kept
// up) reads OpenAPI 3.1 since v0.13x and validates 3.1 documents' schemas
// with a JSON Schema 2020-12 validator (santhosh-tekuri/jsonschema), so the
// document can say what the server checks: type arrays with "null",
// const, if/then (a subject needs an id unless it is anonymous),
// unevaluatedProperties (strict admin bodies that also take a
// justification). The alternative, pb33f/libopenapi-validator, also
// validates 3.1 but brings a larger dependency tree for the same result
// here. kin-openapi's routers cannot match OPA's data API, whose {path}
// holds slashes; apispec matches operations itself (the one parameter
// marked x-verdict-matches-slashes takes the rest of the path) and hands
// kin-openapi the route.
//
// The document is read once and never changed: Central and Edge return
// copies, safe to use from any goroutine.
package openapi

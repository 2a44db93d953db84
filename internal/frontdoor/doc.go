// Package frontdoor holds the rules every HTTP endpoint of Verdict applies
// before it does its own work, written once: who may ask about which org
// (tenancy), what a request body may be (JSON only, one value, bounded,
// strict), which characters ids and names may hold, and how an error is
// answered. The decision API, the searches, OPA's data API, business
// filters, the admin API and the bundle endpoint all call it, so a rule
// changed here changes on every door at once.
//
// Status of each refusal (through verr.HTTPStatus, the one mapping):
//
//	no or invalid caller token                      401 unauthenticated
//	token without an org claim, another org's data  403 forbidden
//	malformed org id                                400 invalid_input
//	body not application/json                       415 unsupported_media_type
//	body over the endpoint's limit                  413 too_large
//	not one JSON value, duplicate member, invalid
//	UTF-8, wrong type, unknown member (typed
//	bodies), control character in an id or name     400 invalid_input
//
// Field names in errors are dotted paths with indexes in brackets
// ("evaluations[3].subject.id"), the style of orgdoc's document errors.
//
// The package holds no state; every function is safe for concurrent use.
package frontdoor

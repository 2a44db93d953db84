// Package edge is an edge PDP: the central PDP's decision API (decision.Decider)
// answered from signed OPA bundles (package bundle) with no Redis and no
// admin API. docs/bundles.md is the operator's view.
//
// OPA's own machinery does the distribution: the edge runs OPA's SDK with
// one service per central PDP and one bundle per org, signatures required
// (key id "verdict"), long polling, and persist: true so that the last
// good bundle of each URL is kept in the data dir and activated at start
// before any download. File bundles use OPA's file:// loader and are read
// again when the file changes. A bundle that is unsigned, signed with
// another key, tampered with or undecodable is refused by OPA and the
// active one keeps serving; nothing active means decisions are denied
// (reason "unavailable") and /ready says which bundles are missing.
//
// Decisions are sdk.Decision at data.verdict.orgs.<org>.main.decision (and
// filters, searches likewise); the org comes from context.org or the
// default org. A request carrying a verified subject token is evaluated on
// OPA's compiler and store with the token's claims bound at
// data.verdict_data.orgs[<org>].verified_token by `with`, as the central
// PDP binds them in its facts.
//
// Ownership and concurrency: OPA owns the bundles and its store; the edge
// keeps only a view of which bundle serves which org, read from OPA's store
// after every activation and swapped atomically. An Edge is safe for
// concurrent use; Close stops OPA and the file poller.
package edge

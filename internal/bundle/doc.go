// Package bundle builds, signs, reads and serves the OPA bundles edge PDPs
// (and stock OPA) decide from. docs/bundles.md is the operator's view.
//
// # Layout
//
// One bundle holds one org, optionally one environment of it:
//
//   - the policies (built-in and extension), rewritten under the org: package
//     verdict.X becomes verdict.orgs.<org>.X, every reference and import to
//     data.verdict.… follows, and extension packages outside verdict.* (and
//     their data.json documents) move under verdict.orgs.<org>.extpkg
//     (RewriteModules, DataPath). References to data.verdict_data stay: the
//     policies already index decision data by org;
//   - the org in the indexed shape of docs/data-model.md at
//     verdict_data/orgs/<org> (assemble.Index.Document, with only the named
//     environment kept in each project when one is named);
//   - a manifest with roots verdict/orgs/<org> and verdict_data/orgs/<org>
//     (Roots: bundles of several orgs load side by side), the org's revision
//     (or a content hash for documents read from files), Rego v1 and
//     metadata {"verdict": {org, environment, policy_revision}};
//   - .signatures.json, signed RS256 or ES256 (from the key) under key id
//     "verdict" with OPA's own signing code.
//
// Stock OPA answers at data.verdict.orgs.<org>.main.decision.
//
// # Ownership and concurrency
//
// Build, Read and RewriteModules are pure functions of their arguments;
// Signer and VerificationKey are immutable. Server (the central PDP's
// /bundles endpoint) owns the bundles it built, in memory: it reads orgs
// from the store (Redis owns the facts), one follower goroutine per served
// org reads the change feed and rebuilds, and requests only read immutable
// snapshots. It is safe for concurrent use; its goroutines end with the
// context given to NewServer.
package bundle

// Package facts is the facts step of a decision: request -> the subject's
// facts -> prepared query -> answer. It reads from Redis exactly what one
// decision may know about one subject (one Lua call, one round trip), decodes
// the reply once, strictly, straight into the ast.Value the policies read at
// data.verdict_data.orgs, keeps recent facts in one bounded cache, and follows
// one change feed per process that tells the cache when an org changed.
//
// Ownership and concurrency:
//   - A Reader owns the decoded manifests of builds it has read (immutable,
//     shared by every decision that names their project). Safe for concurrent
//     use.
//   - A Cache owns its entries and the per-org versions that invalidate them;
//     values it hands out are immutable and shared: the engine never writes
//     into them. Safe for concurrent use.
//   - A Feed owns one Redis pub/sub connection and its goroutine; it calls its
//     listeners from that goroutine, one message at a time. Safe for
//     concurrent use.
//
// The consistency promises that this package keeps, and their tests, are in
// docs/consistency.md.
package facts

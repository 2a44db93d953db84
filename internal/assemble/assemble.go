// Package assemble renders an organization's facts, from its org document,
// in the indexed shape the policies read (docs/data-model.md): the whole org
// for bundles and stock OPA (Index.Document), or, per request, one subject's
// cut (DocSource, the in-memory facts.Source of `verdict check` and tests).
// The central PDP reads the same shape from Redis (internal/facts).
//
// Index values are immutable once built: a DocSource may be read by any number
// of goroutines at once. Swapping one in is the caller's job.
package assemble

package serve

import (
	"log/slog"
	"os"
	"runtime/debug"
)

// gcPercent is the GC target used under a memory limit.
const gcPercent = 400

// tuneGC trades idle memory for CPU. A central PDP's live heap is small and
// bounded by its caches (facts, decisions, build manifests), never by the
// size of an org, which stays in Redis; with Go's default GOGC=100 it would
// collect every few MiB allocated, and a decision allocates ~60 KiB, so the
// collector took a fifth of the CPU under load. With a higher target under a
// hard soft-limit the heap may grow to the limit between collections, and
// never past it: RSS stays flat and predictable, whatever the org's size.
// Explicit GOMEMLIMIT / GOGC settings of the operator are left alone.
func tuneGC(limitMiB int, log *slog.Logger) {
	if limitMiB < 0 || os.Getenv("GOMEMLIMIT") != "" || os.Getenv("GOGC") != "" {
		return
	}
	if limitMiB == 0 {
		limitMiB = 200
	}
	debug.SetMemoryLimit(int64(limitMiB) << 20)
	debug.SetGCPercent(gcPercent)
	log.Info("Go heap tuned", "memory_limit_mib", limitMiB, "gc_percent", gcPercent)
}

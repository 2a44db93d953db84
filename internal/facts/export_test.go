package facts

// Kept reports what a Reader holds, for the tests of its bounds: decoded
// build manifests (by org and project) and shared decoded records.
func (r *Reader) Kept() (builds, shared int) {
	r.mu.RLock()
	builds = len(r.builds)
	r.mu.RUnlock()
	r.shared.mu.RLock()
	shared = len(r.shared.m)
	r.shared.mu.RUnlock()
	return builds, shared
}

package bundle

import (
	"context"
	"strconv"
	"time"

	"github.com/verdict-pdp/verdict/internal/facts"
	"github.com/verdict-pdp/verdict/internal/orgdoc"
	"github.com/verdict-pdp/verdict/internal/verr"
)

// current returns the bundle of (org, env), building it on first request.
func (s *Server) current(ctx context.Context, org, env string) (*slot, error) {
	if env == "" {
		env = AllEnvironments
	}
	s.mu.Lock()
	st := s.orgs[org]
	s.mu.Unlock()
	if st != nil {
		st.mu.Lock()
		sl := st.slots[env]
		st.mu.Unlock()
		if sl != nil {
			return sl, nil
		}
	}
	return s.first(ctx, org, env)
}

// first builds the first bundle of (org, env). The first bundle of an org
// also starts its follower: an org that does not exist costs nothing but the
// lookup.
func (s *Server) first(ctx context.Context, org, env string) (*slot, error) {
	s.mu.Lock()
	st := s.orgs[org]
	if st == nil {
		st = &orgState{slots: map[string]*slot{}, kick: make(chan struct{}, 1)}
		s.orgs[org] = st
	}
	s.mu.Unlock()
	st.build.Lock()
	defer st.build.Unlock()
	st.mu.Lock()
	sl, doc, rev := st.slots[env], st.doc, st.rev
	st.mu.Unlock()
	if sl != nil {
		return sl, nil // built while we waited
	}
	isNew := doc == nil
	if isNew {
		var err error
		if doc, rev, err = s.cfg.Store.GetOrg(ctx, org); err != nil {
			s.mu.Lock()
			if s.orgs[org] == st {
				delete(s.orgs, org)
			}
			s.mu.Unlock()
			return nil, err
		}
	}
	b, err := s.build(ctx, doc, rev, env)
	if err != nil {
		return nil, err
	}
	sl = &slot{built: b, changed: make(chan struct{})}
	st.mu.Lock()
	st.doc, st.rev = doc, rev
	st.slots[env] = sl
	st.mu.Unlock()
	if isNew {
		go s.follow(org, st)
	}
	return sl, nil
}

func (s *Server) build(ctx context.Context, doc *orgdoc.Org, rev int64, env string) (*Built, error) {
	return Build(ctx, Spec{Org: doc, Env: env, Revision: strconv.FormatInt(rev, 10), Policies: s.cfg.PolicySource(), Signer: s.cfg.Signer})
}

// follow keeps org's bundles fresh. The process's one change feed kicks it
// (Changed, Resync): after a burst of changes has settled (Debounce of
// quiet, at most 5 times that) it rebuilds every environment served. It
// holds no Redis connection while it waits. When the feed is lost the
// bundles built so far stay (edges keep deciding); once the feed is back,
// Resync kicks every org, whose revision is then compared.
func (s *Server) follow(org string, st *orgState) {
	ctx := s.ctx
	// A write may have landed between the first build and now.
	if !s.refresh(ctx, org, st, false) {
		return
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-st.kick:
			for deadline := time.Now().Add(5 * s.cfg.Debounce); time.Now().Before(deadline); {
				select {
				case <-ctx.Done():
					return
				case <-st.kick:
					continue
				case <-time.After(s.cfg.Debounce):
				}
				break
			}
			if !s.refresh(ctx, org, st, false) {
				return
			}
		case <-time.After(s.feedBlock):
			// Quiet for a while: a good moment to notice reloaded policies.
			if s.policiesMoved(st) && !s.refresh(ctx, org, st, true) {
				return
			}
		}
	}
}

// Changed implements facts.Listener: it kicks the follower of the org the
// change names (every follower when it names none).
func (s *Server) Changed(ch facts.Change) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for org, st := range s.orgs {
		if ch.Org == "" || ch.Org == org {
			st.poke()
		}
	}
}

// Resync implements facts.Listener: after the feed was away, every org's
// revision is compared (by its follower, not here: the feed must not wait
// on builds).
func (s *Server) Resync(context.Context) error {
	s.Changed(facts.Change{})
	return nil
}

// poke wakes the org's follower without blocking: one pending kick is
// enough, since a rebuild reads the org as it is then.
func (st *orgState) poke() {
	select {
	case st.kick <- struct{}{}:
	default:
	}
}

// policiesMoved reports whether the policies changed since org's bundles
// were built.
func (s *Server) policiesMoved(st *orgState) bool {
	rev := s.cfg.PolicySource().Revision()
	st.mu.Lock()
	defer st.mu.Unlock()
	for _, sl := range st.slots {
		if sl.built.PolicyRevision != rev {
			return true
		}
	}
	return false
}

// refresh rebuilds org's bundles if its revision moved (or always, with
// force: the policies changed). It returns false
// when the org is gone: its bundles are dropped (requests get 404, edges
// keep their last one) and the follower stops.
func (s *Server) refresh(ctx context.Context, org string, st *orgState, force bool) bool {
	st.build.Lock()
	defer st.build.Unlock()
	rev, err := s.cfg.Store.Revision(ctx, org)
	if err != nil {
		return true // the feed will fail too and retry
	}
	st.mu.Lock()
	same := rev == st.rev && !force
	envs := make([]string, 0, len(st.slots))
	for env := range st.slots {
		envs = append(envs, env)
	}
	st.mu.Unlock()
	if same {
		return true
	}
	doc, rev, err := s.cfg.Store.GetOrg(ctx, org)
	if verr.CodeOf(err) == verr.NotFound {
		s.drop(org, st)
		return false
	}
	if err != nil {
		return true
	}
	start := time.Now()
	fresh := map[string]*slot{}
	for _, env := range envs {
		b, err := s.build(ctx, doc, rev, env)
		if err != nil {
			// An environment removed by the write: that bundle is dropped.
			s.cfg.Log.Warn("bundles: rebuild failed; dropping the bundle", "org", org, "env", env, "err", err)
			continue
		}
		fresh[env] = &slot{built: b, changed: make(chan struct{})}
	}
	st.mu.Lock()
	old := st.slots
	st.doc, st.rev, st.slots = doc, rev, fresh
	st.mu.Unlock()
	for _, sl := range old {
		close(sl.changed)
	}
	s.cfg.Log.Info("bundles rebuilt", "org", org, "revision", rev, "environments", len(fresh), "took_ms", float64(time.Since(start).Microseconds())/1000)
	return true
}

// drop forgets an org that no longer exists.
func (s *Server) drop(org string, st *orgState) {
	s.mu.Lock()
	delete(s.orgs, org)
	s.mu.Unlock()
	st.mu.Lock()
	old := st.slots
	st.slots = map[string]*slot{}
	st.mu.Unlock()
	for _, sl := range old {
		close(sl.changed)
	}
	s.cfg.Log.Info("bundles: org deleted; its bundles are no longer served", "org", org)
}

package store

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// LastSeen records when users were last the subject of a decision, for
// inactive-user reviews. Sightings are kept in memory and written in one
// pipelined batch per interval (HSET v:{org}:last_seen uid -> RFC 3339), so
// decisions never wait on a write. A batch that cannot be written (Redis
// down) is kept and merged into the next one.
//
// Safe for concurrent use; Close flushes.
type LastSeen struct {
	st       *Store
	log      *slog.Logger
	interval time.Duration

	mu      sync.Mutex
	pending map[string]map[string]time.Time // org -> user -> time
	stop    chan struct{}
	done    chan struct{}
}

// NewLastSeen starts a batcher writing every interval (default 5s).
func NewLastSeen(st *Store, interval time.Duration, log *slog.Logger) *LastSeen {
	if interval <= 0 {
		interval = 5 * time.Second
	}
	l := &LastSeen{st: st, log: log, interval: interval, pending: map[string]map[string]time.Time{},
		stop: make(chan struct{}), done: make(chan struct{})}
	go l.run()
	return l
}

// Seen notes that user of org was just decided about.
func (l *LastSeen) Seen(org, user string) {
	if org == "" || user == "" {
		return
	}
	now := time.Now().UTC()
	l.mu.Lock()
	m := l.pending[org]
	if m == nil {
		m = map[string]time.Time{}
		l.pending[org] = m
	}
	m[user] = now
	l.mu.Unlock()
}

// Flush writes what is pending now.
func (l *LastSeen) Flush(ctx context.Context) error {
	l.mu.Lock()
	batch := l.pending
	l.pending = map[string]map[string]time.Time{}
	l.mu.Unlock()
	if len(batch) == 0 {
		return nil
	}
	pipe := l.st.rdb.Pipeline()
	for org, users := range batch {
		args := make([]any, 0, 2*len(users))
		for u, t := range users {
			args = append(args, u, t.Format(time.RFC3339))
		}
		pipe.HSet(ctx, l.st.keys(org).LastSeen(), args...)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		// Keep the batch: newer sightings win when merged back.
		l.mu.Lock()
		for org, users := range batch {
			m := l.pending[org]
			if m == nil {
				l.pending[org] = users
				continue
			}
			for u, t := range users {
				if _, newer := m[u]; !newer {
					m[u] = t
				}
			}
		}
		l.mu.Unlock()
		return unavailable(err)
	}
	return nil
}

// Close flushes and stops.
func (l *LastSeen) Close() {
	close(l.stop)
	<-l.done
}

func (l *LastSeen) run() {
	defer close(l.done)
	t := time.NewTicker(l.interval)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			_ = l.Flush(ctx)
			cancel()
			return
		case <-t.C:
			if err := l.Flush(context.Background()); err != nil && l.log != nil {
				l.log.Warn("last_seen not written, kept for the next batch", "err", err)
			}
		}
	}
}

// LastSeenOf reads when users were last seen ("" when never).
func (s *Store) LastSeenOf(ctx context.Context, org string, users ...string) (map[string]string, error) {
	out := map[string]string{}
	if len(users) == 0 {
		return out, nil
	}
	vals, err := s.rdb.HMGet(ctx, s.keys(org).LastSeen(), users...).Result()
	if err != nil {
		return nil, unavailable(err)
	}
	for i, v := range vals {
		if t, ok := v.(string); ok {
			out[users[i]] = t
		}
	}
	return out, nil
}

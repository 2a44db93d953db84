package facts

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/verdict-pdp/verdict/internal/verr"
)

// Change is what a notification on the change channel says: the org that a
// write changed and the revision it produced; All when anything of the org
// may have changed (a whole-org import or delete). The store publishes it in
// the write's own transaction (docs/consistency.md).
type Change struct {
	Org      string `json:"org"`
	Revision int64  `json:"revision"`
	All      bool   `json:"all,omitempty"`
}

// Listener is told of changes by a Feed, from the feed's goroutine: it must
// not block.
type Listener interface {
	// Changed is called for every change heard of.
	Changed(Change)
	// Resync is called after the feed (re)connects and before it reports
	// healthy: changes may have been missed while it was away. An
	// Unavailable error ends the attempt; the feed retries.
	Resync(ctx context.Context) error
}

// FeedConfig configures a Feed.
type FeedConfig struct {
	// Channel is the store's change channel (store.Store.ChangesChannel).
	// Required.
	Channel string
	// PingEvery is how long the feed waits quietly before it checks the
	// connection (default 1s); a connection that does not answer within
	// another PingEvery is given up, and the feed is unhealthy until it
	// reconnects and resyncs.
	PingEvery time.Duration
	// Log receives connection losses and recoveries (default: discard).
	Log *slog.Logger
}

// Validate fills defaults and reports every problem.
func (c *FeedConfig) Validate() error {
	var errs []error
	if c.Channel == "" {
		errs = append(errs, verr.New(verr.InvalidInput, "channel", "required"))
	}
	if c.PingEvery < 0 {
		errs = append(errs, verr.New(verr.InvalidInput, "ping_every", "must not be negative"))
	}
	if c.PingEvery == 0 {
		c.PingEvery = time.Second
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	return joinErrors(errs)
}

// Feed is the one change-feed reader of a PDP process: a single Redis
// pub/sub connection subscribed to the store's change channel, whatever the
// number of orgs (on a Redis Cluster, a publish reaches every node, so one
// subscription on any node hears every org). It tells its listeners of every
// change, and says whether it is healthy: connected, subscribed, resynced,
// and heard from within the last two PingEvery.
//
// A Feed is safe for concurrent use; Run runs its one goroutine.
type Feed struct {
	cfg FeedConfig
	rdb redis.UniversalClient

	mu        sync.Mutex
	listeners atomic.Pointer[[]Listener] // copy on write: read per message

	healthy   atomic.Bool
	lastAlive atomic.Int64 // unix nanoseconds

	heard atomic.Uint64 // changes heard since start
}

// NewFeed returns a Feed over rdb; start it with Run.
func NewFeed(rdb redis.UniversalClient, cfg FeedConfig) (*Feed, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Feed{cfg: cfg, rdb: rdb}, nil
}

// Listen adds a listener; it hears every change from now on (it is resynced
// at the next reconnection, like every listener).
func (f *Feed) Listen(l Listener) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var ls []Listener
	if cur := f.listeners.Load(); cur != nil {
		ls = append(ls, *cur...)
	}
	ls = append(ls, l)
	f.listeners.Store(&ls)
}

func (f *Feed) current() []Listener {
	if ls := f.listeners.Load(); ls != nil {
		return *ls
	}
	return nil
}

// Healthy implements Health.
func (f *Feed) Healthy() bool { return f.healthy.Load() }

// LastAlive implements Health: when the feed last heard from Redis while
// subscribed.
func (f *Feed) LastAlive() time.Time { return time.Unix(0, f.lastAlive.Load()) }

// Heard counts the changes heard since start.
func (f *Feed) Heard() uint64 { return f.heard.Load() }

func (f *Feed) alive() { f.lastAlive.Store(time.Now().UnixNano()) }

// Run follows the channel until ctx ends, reconnecting with backoff.
func (f *Feed) Run(ctx context.Context) {
	backoff := 50 * time.Millisecond
	down := false
	for ctx.Err() == nil {
		err := f.session(ctx, func() {
			if down {
				f.cfg.Log.Info("change feed back: cached facts checked against the store")
			}
			down, backoff = false, 50*time.Millisecond
		})
		f.healthy.Store(false)
		if ctx.Err() != nil {
			return
		}
		if !down {
			f.cfg.Log.Warn("change feed lost: cached facts answer only after a revision check, or stale within --stale-facts-max", "err", err)
			down = true
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 2*time.Second)
	}
}

// session is one connection: subscribe, resync, then read until it fails.
func (f *Feed) session(ctx context.Context, up func()) error {
	ps := f.rdb.Subscribe(ctx, f.cfg.Channel)
	defer ps.Close()
	if _, err := ps.ReceiveTimeout(ctx, 2*f.cfg.PingEvery); err != nil {
		return err
	}
	f.alive()
	for _, l := range f.current() {
		if err := l.Resync(ctx); err != nil {
			return err
		}
	}
	f.healthy.Store(true)
	up()
	pinged := false
	for {
		msg, err := ps.ReceiveTimeout(ctx, f.cfg.PingEvery)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() && !pinged {
				// Quiet: check the connection once; no answer within the
				// next wait gives it up.
				if err := ps.Ping(ctx); err != nil {
					return err
				}
				pinged = true
				continue
			}
			return err
		}
		pinged = false
		f.alive()
		switch m := msg.(type) {
		case *redis.Message:
			f.dispatch(m.Payload)
		case *redis.Subscription:
			// Resubscribed by the client after a reconnection it made on its
			// own: what was published meanwhile is lost.
			if m.Kind == "subscribe" {
				return errors.New("change feed resubscribed: resync")
			}
		}
	}
}

func (f *Feed) dispatch(payload string) {
	f.heard.Add(1)
	var ch Change
	if err := json.Unmarshal([]byte(payload), &ch); err != nil || ch.Org == "" {
		// A notification that does not say which org changed could be about
		// any of them.
		f.cfg.Log.Warn("change notification does not decode: every org is invalidated", "payload_bytes", len(payload))
		ch = Change{All: true}
	}
	for _, l := range f.current() {
		l.Changed(ch)
	}
}

package facts

import (
	"context"

	"github.com/redis/go-redis/v9"
)

// Config is the facts path of a central PDP: reader, cache and feed.
type Config struct {
	Reader ReaderConfig
	Cache  CacheConfig
	Feed   FeedConfig
}

// Validate fills defaults and reports every problem of every part.
func (c *Config) Validate() error {
	return joinErrors(nonNil(c.Reader.Validate(), c.Cache.Validate(), c.Feed.Validate()))
}

func nonNil(errs ...error) []error {
	out := errs[:0]
	for _, e := range errs {
		if e != nil {
			out = append(out, e)
		}
	}
	return out
}

// Central is the facts path of a central PDP: one Reader, one Cache over it,
// one Feed that keeps the cache current. It is the Source the decision
// service reads from.
type Central struct {
	*Cache
	Reader *Reader
	Feed   *Feed
}

// Open builds the facts path over rdb and starts its feed; the feed stops
// when ctx ends. rdb must honour contexts' deadlines on the socket
// (ContextTimeoutEnabled, as `verdict serve` sets it): otherwise the revision
// check made while the feed is down waits out the client's read timeout on
// a Redis that stopped answering, instead of CacheConfig.ProbeTimeout.
func Open(ctx context.Context, rdb redis.UniversalClient, cfg Config) (*Central, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	r, err := NewReader(rdb, cfg.Reader)
	if err != nil {
		return nil, err
	}
	feed, err := NewFeed(rdb, cfg.Feed)
	if err != nil {
		return nil, err
	}
	c, err := NewCache(cfg.Cache, r, r, feed)
	if err != nil {
		return nil, err
	}
	feed.Listen(follower{c, r})
	go feed.Run(ctx)
	return &Central{Cache: c, Reader: r, Feed: feed}, nil
}

// follower keeps a cache and a reader's build manifests current.
type follower struct {
	c *Cache
	r *Reader
}

func (f follower) Changed(ch Change) {
	if ch.Org == "" {
		f.c.InvalidateAll()
		f.r.Forget("")
		return
	}
	f.c.Invalidate(ch.Org)
	if ch.All {
		f.r.Forget(ch.Org)
	}
}

func (f follower) Resync(ctx context.Context) error {
	// A whole-org import may have gone unheard: build ids may stand for new
	// manifests.
	f.r.Forget("")
	return f.c.Resync(ctx)
}

package serve

import (
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// The Redis client of a PDP. Its connections are bounded by configuration,
// never by the number of orgs asked about (docs/consistency.md, "Bounds"):
//
//   - at most RedisPoolSize connections for commands (per node on a
//     Cluster): decisions, admin writes, last_seen batches, searches,
//     bundle builds and /ready all share this one pool, pipelines included
//     (go-redis's separate pipeline pool is turned off);
//   - plus the one pub/sub connection of the change feed (on one node of a
//     Cluster).
//
// Past the pool, a command waits for a free connection (at most
// redisPoolTimeout, within the request's deadline) instead of opening more.
const (
	// DefaultRedisPoolSize is the default of --redis-pool-size: a decision
	// holds a connection for one script call (well under a millisecond on a
	// local network), so 32 keep far more decisions in flight than two to
	// eight cores evaluate.
	DefaultRedisPoolSize = 32
	// redisDialTimeout bounds opening a connection. A failed dial is not
	// retried within one attempt of a command (go-redis would try five
	// times, 100 ms apart: half a second added to every decision while
	// Redis is down); the command's own retries (3, with a short backoff)
	// still ride out a blip.
	redisDialTimeout = 2 * time.Second
	// redisReadTimeout bounds a reply when the caller's context has no
	// earlier deadline (decisions have their request's, the facts cache's
	// revision check its own 50 ms). It is go-redis's default, kept explicit:
	// an admin export of a large org reads its users hash in one reply.
	redisReadTimeout = 5 * time.Second
	// redisPoolTimeout bounds the wait for a free connection of the pool.
	redisPoolTimeout = 2 * time.Second
)

// newRedisClient opens the client that cfg describes, with the pool bound
// and timeouts above. Contexts' deadlines bound every command
// (ContextTimeoutEnabled): without it go-redis would ignore them on the
// socket and a request could wait out the read timeout on a Redis that
// stopped answering.
func newRedisClient(cfg *Config) (redis.UniversalClient, error) {
	if cfg.RedisCluster {
		opt, err := redis.ParseClusterURL(cfg.RedisURL)
		if err != nil {
			return nil, fmt.Errorf("--redis-url: %w", err)
		}
		if opt.PoolSize != 0 || opt.MaxActiveConns != 0 || opt.PipelinePoolSize != 0 {
			return nil, fmt.Errorf("--redis-url: pool_size, max_active_conns and pipeline_pool_size are set with --redis-pool-size, not in the URL")
		}
		opt.PoolSize, opt.MaxActiveConns, opt.PipelinePoolSize = cfg.RedisPoolSize, cfg.RedisPoolSize, -1
		opt.ContextTimeoutEnabled = true
		opt.DialerRetries = 1
		opt.DialTimeout = orDefault(opt.DialTimeout, redisDialTimeout)
		opt.ReadTimeout = orDefault(opt.ReadTimeout, redisReadTimeout)
		opt.WriteTimeout = orDefault(opt.WriteTimeout, redisReadTimeout)
		opt.PoolTimeout = orDefault(opt.PoolTimeout, redisPoolTimeout)
		return redis.NewClusterClient(opt), nil
	}
	opt, err := redis.ParseURL(cfg.RedisURL)
	if err != nil {
		return nil, fmt.Errorf("--redis-url: %w", err)
	}
	if opt.PoolSize != 0 || opt.MaxActiveConns != 0 || opt.PipelinePoolSize != 0 {
		return nil, fmt.Errorf("--redis-url: pool_size, max_active_conns and pipeline_pool_size are set with --redis-pool-size, not in the URL")
	}
	boundClient(opt, cfg.RedisPoolSize)
	return redis.NewClient(opt), nil
}

// boundClient applies the pool bound and timeouts to the options of one
// Redis (or of the embedded store in --dev mode).
func boundClient(opt *redis.Options, pool int) {
	opt.PoolSize, opt.MaxActiveConns, opt.PipelinePoolSize = pool, pool, -1
	opt.ContextTimeoutEnabled = true
	opt.DialerRetries = 1
	opt.DialTimeout = orDefault(opt.DialTimeout, redisDialTimeout)
	opt.ReadTimeout = orDefault(opt.ReadTimeout, redisReadTimeout)
	opt.WriteTimeout = orDefault(opt.WriteTimeout, redisReadTimeout)
	opt.PoolTimeout = orDefault(opt.PoolTimeout, redisPoolTimeout)
}

// orDefault keeps a timeout the URL set (dial_timeout=, read_timeout=, ...).
func orDefault(d, def time.Duration) time.Duration {
	if d != 0 {
		return d
	}
	return def
}

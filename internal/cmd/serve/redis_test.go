package serve

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
)

// TestRedisPoolBound: --redis-pool-size (default 32) bounds the commands'
// connections of one Redis and of each node of a Cluster, pipelines
// included, and deadlines of contexts bound every command; a pool set in the
// URL is refused rather than silently overridden or obeyed.
func TestRedisPoolBound(t *testing.T) {
	cases := []struct {
		name     string
		args     []string
		pool     int
		errField string // in the error, when the configuration is refused
	}{
		{"default", []string{"--redis-url", "redis://127.0.0.1:1/0"}, DefaultRedisPoolSize, ""},
		{"flag", []string{"--redis-url", "redis://127.0.0.1:1/0", "--redis-pool-size", "5"}, 5, ""},
		{"cluster", []string{"--redis-url", "redis://127.0.0.1:1?addr=127.0.0.1:2", "--redis-cluster", "--redis-pool-size", "7"}, 7, ""},
		{"negative", []string{"--redis-url", "redis://127.0.0.1:1/0", "--redis-pool-size", "-1"}, 0, "redis-pool-size"},
		{"pool in the URL", []string{"--redis-url", "redis://127.0.0.1:1/0?pool_size=100"}, 0, "pool_size"},
		{"pool in a cluster URL", []string{"--redis-url", "redis://127.0.0.1:1?max_active_conns=100", "--redis-cluster"}, 0, "pool_size"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var errOut bytes.Buffer
			cfg, _, ok := load(append(tc.args, "--auth", "none"), io.Discard, &errOut)
			var err error
			if !ok {
				err = errors.New(errOut.String())
			}
			var rdb redis.UniversalClient
			if err == nil {
				rdb, err = newRedisClient(cfg)
			}
			if tc.errField != "" {
				if err == nil || !strings.Contains(err.Error(), tc.errField) {
					t.Fatalf("want an error naming %s, got %v", tc.errField, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer rdb.Close()
			var pool, active, pipeline, dials int
			var ctxTimeouts bool
			switch c := rdb.(type) {
			case *redis.Client:
				o := c.Options()
				pool, active, pipeline, dials, ctxTimeouts = o.PoolSize, o.MaxActiveConns, o.PipelinePoolSize, o.DialerRetries, o.ContextTimeoutEnabled
			case *redis.ClusterClient:
				o := c.Options() // applied to every node's client
				pool, active, pipeline, dials, ctxTimeouts = o.PoolSize, o.MaxActiveConns, o.PipelinePoolSize, o.DialerRetries, o.ContextTimeoutEnabled
			default:
				t.Fatalf("client %T", rdb)
			}
			if pool != tc.pool || active != tc.pool || pipeline >= 0 || dials != 1 || !ctxTimeouts {
				t.Errorf("pool %d, max active %d, pipeline pool %d, dial attempts %d, context timeouts %v; want %d, %d, off, 1, on",
					pool, active, pipeline, dials, ctxTimeouts, tc.pool, tc.pool)
			}
		})
	}
}

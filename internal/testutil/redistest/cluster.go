package redistest

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Cluster is a real Redis Cluster of redis-server processes on loopback,
// every node a master (no replicas), made with `redis-cli --cluster create`.
// It needs redis-server and redis-cli (Debian's redis-server package brings
// both).
type Cluster struct {
	nodes []*process
}

// StartCluster starts a cluster of n masters (at least 3, as Redis
// requires) and tears it down when tb ends.
func StartCluster(tb testing.TB, n int) *Cluster {
	tb.Helper()
	bin, err := redisServerPath()
	if err != nil {
		tb.Fatalf("%v", err)
	}
	cli, err := exec.LookPath("redis-cli")
	if err != nil {
		tb.Fatalf("redistest: a cluster needs redis-cli (Debian's redis-tools): %v", err)
	}
	t0 := time.Now()
	c := &Cluster{}
	tb.Cleanup(func() {
		for _, p := range c.nodes {
			p.kill()
			releasePort(p.port)
		}
	})
	dir := tb.TempDir()
	for i := range n {
		var p *process
		for attempt := 0; ; attempt++ {
			port, err := freePort()
			if err != nil {
				tb.Fatal(err)
			}
			p = &process{bin: bin, port: port, args: []string{"--cluster-enabled", "yes",
				"--cluster-config-file", filepath.Join(dir, fmt.Sprintf("nodes-%d-%d.conf", i, port)),
				"--cluster-node-timeout", "5000"}}
			if err = p.start(); err == nil {
				break
			}
			releasePort(port)
			if attempt == 2 {
				tb.Fatalf("redistest: cluster node %d: %v", i, err)
			}
		}
		c.nodes = append(c.nodes, p)
	}
	args := []string{"--cluster", "create"}
	args = append(args, c.Addrs()...)
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	if out, err := exec.Command(cli, args...).CombinedOutput(); err != nil {
		tb.Fatalf("redistest: redis-cli --cluster create: %v\n%s", err, out)
	}
	// Every node must agree that all slots are served before the cluster is
	// handed out.
	deadline := time.Now().Add(30 * time.Second)
	for _, a := range c.Addrs() {
		rdb := redis.NewClient(&redis.Options{Addr: a})
		for {
			info, err := rdb.ClusterInfo(context.Background()).Result()
			if err == nil && strings.Contains(info, "cluster_state:ok") {
				break
			}
			if time.Now().After(deadline) {
				rdb.Close()
				tb.Fatalf("redistest: cluster node %s not ok: %v %s", a, err, info)
			}
			time.Sleep(50 * time.Millisecond)
		}
		rdb.Close()
	}
	tb.Logf("redis: started a cluster of %d redis-server masters %v in %v", n, c.Addrs(), time.Since(t0).Round(time.Millisecond))
	return c
}

// Addrs are the nodes' host:port.
func (c *Cluster) Addrs() []string {
	out := make([]string, len(c.nodes))
	for i, p := range c.nodes {
		out[i] = "127.0.0.1:" + strconv.Itoa(p.port)
	}
	return out
}

// URL is the cluster as go-redis's ParseClusterURL reads it:
// redis://first?addr=second&addr=third.
func (c *Cluster) URL() string {
	a := c.Addrs()
	u := "redis://" + a[0]
	for i, x := range a[1:] {
		sep := "&"
		if i == 0 {
			sep = "?"
		}
		u += sep + "addr=" + x
	}
	return u
}

// Client returns a cluster client, closed when tb ends.
func (c *Cluster) Client(tb testing.TB) *redis.ClusterClient {
	rdb := redis.NewClusterClient(&redis.ClusterOptions{Addrs: c.Addrs()})
	tb.Cleanup(func() { _ = rdb.Close() })
	return rdb
}

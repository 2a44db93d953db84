package redistest_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/verdict-pdp/verdict/internal/testutil/redistest"
)

// TestStopRestart is the shape of a "Redis goes down, then recovers" test:
// commands fail while the server is stopped and work again, at the same
// address, after Restart.
func TestStopRestart(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t)
	if want := "redis://" + srv.Addr() + "/0"; srv.URL() != want && os.Getenv("VERDICT_TEST_REDIS_URL") == "" {
		t.Fatalf("URL() = %q, want %q", srv.URL(), want)
	}
	rdb := srv.Client(t)

	if err := rdb.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatalf("SET: %v", err)
	}
	if got, err := rdb.Get(ctx, "k").Result(); err != nil || got != "v" {
		t.Fatalf("GET = %q, %v; want v", got, err)
	}

	addr := srv.Addr()
	srv.Stop(t)
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := rdb.Ping(cctx).Err(); err == nil {
		t.Fatal("PING succeeded on a stopped server")
	} else {
		t.Logf("PING while stopped: %v", err)
	}

	srv.Restart(t)
	if srv.Addr() != addr {
		t.Fatalf("Addr changed across restart: %s -> %s", addr, srv.Addr())
	}
	// The same client reconnects: the address is unchanged.
	if err := rdb.Ping(ctx).Err(); err != nil {
		t.Fatalf("PING after restart: %v", err)
	}
	if err := rdb.Get(ctx, "k").Err(); err == nil {
		t.Log("note: data survived the restart") // allowed, not required
	}
}

func TestShared(t *testing.T) {
	ctx := context.Background()
	a, b := redistest.Shared(t), redistest.Shared(t)
	if a != b {
		t.Fatal("Shared returned two servers")
	}
	rdb := a.Client(t)
	if err := rdb.FlushAll(ctx).Err(); err != nil {
		t.Fatalf("FLUSHALL: %v", err)
	}
	if err := rdb.Set(ctx, "shared", "1", 0).Err(); err != nil {
		t.Fatalf("SET: %v", err)
	}
}

func TestParallelStart(t *testing.T) {
	for range 3 {
		t.Run("", func(t *testing.T) {
			t.Parallel()
			if err := redistest.Start(t).Client(t).Ping(context.Background()).Err(); err != nil {
				t.Fatalf("PING: %v", err)
			}
		})
	}
}

package test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/verdict-pdp/verdict/internal/cmd/serve"
)

// BenchmarkThousandOrgs: decision latency over HTTP and the PDP's Redis
// connections with 1,000 small orgs in one Redis. One iteration starts a
// fresh `verdict serve` (default --redis-pool-size 32: bound 33
// connections; caches cold) and sends it 4,000 decisions from 8 callers at
// once: for each of the 1,000 orgs, tom (allowed), sam (invited) and an
// unknown user, plus tom in each of 1,000 orgs that do not exist,
// interleaved. Every answer is checked. Reported: p50/p99 of a decision in
// ms, decisions/s, and the most PDP connections CLIENT LIST showed.
//
//	go test -run '^$' -bench ThousandOrgs -benchtime 3x ./test/
func BenchmarkThousandOrgs(b *testing.B) {
	const orgs, callers = 1000, 8
	ctx := context.Background()
	rd := singleRedis(b)
	importScaleOrgs(b, rd.client, orgs)
	cases := scaleCases(orgs)
	hc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: callers}}

	var lat []time.Duration
	var elapsed time.Duration
	var maxClients atomic.Int64
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		cfg := serve.Config{RedisURL: rd.url, Auth: "none", Addr: "127.0.0.1:0"}
		if err := cfg.Validate(); err != nil {
			b.Fatal(err)
		}
		srv, err := serve.Start(ctx, &cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), io.Discard)
		if err != nil {
			b.Fatal(err)
		}
		base := "http://" + srv.Addr
		stop := make(chan struct{})
		var watchers sync.WaitGroup
		watch(stop, &watchers, 10*time.Millisecond, func() {
			if n, _, err := rd.pdpClients(ctx); err == nil {
				raise(&maxClients, n)
			}
		})
		per := make([][]time.Duration, callers)
		var next atomic.Int64
		var wrong atomic.Value
		var wg sync.WaitGroup
		b.StartTimer()
		start := time.Now()
		for w := range callers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := int(next.Add(1) - 1); i < len(cases); i = int(next.Add(1) - 1) {
					c := cases[i]
					t0 := time.Now()
					status, raw, err := ask(hc, base, accessBody(c.org, c.user))
					per[w] = append(per[w], time.Since(t0))
					if err != nil {
						wrong.Store(err.Error())
					} else if msg := c.check(status, raw); msg != "" {
						wrong.Store(msg)
					}
				}
			}()
		}
		wg.Wait()
		elapsed += time.Since(start)
		b.StopTimer()
		close(stop)
		watchers.Wait()
		srv.Close()
		if msg := wrong.Load(); msg != nil {
			b.Fatal(msg)
		}
		for _, p := range per {
			lat = append(lat, p...)
		}
		b.StartTimer()
	}
	slices.Sort(lat)
	pct := func(p float64) float64 {
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds()) / 1000
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(float64(len(lat))/elapsed.Seconds(), "decisions/s")
	b.ReportMetric(float64(maxClients.Load()), "max-redis-clients")
}

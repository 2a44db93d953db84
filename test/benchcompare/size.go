package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/verdict-pdp/verdict/internal/cmd/bench"
)

const org = "gen"

// measureSize runs everything for one org size.
func measureSize(ctx context.Context, c config, b binaries, users int) (Size, error) {
	s := Size{Users: users, OPA: Server{Name: "stock OPA " + b.opaVersion, Mix: map[string]Mix{}},
		Verdict: Server{Name: "verdict serve", Mix: map[string]Mix{}}}
	tag := fmt.Sprintf("%d-s%d", users, c.seed)
	doc := filepath.Join(c.work, "org-"+tag+".json")
	bundle := filepath.Join(c.work, "org-"+tag+".tar.gz")
	gen := func(out string, args ...string) error {
		if _, err := os.Stat(out); err == nil {
			return nil // generated data is deterministic: reuse it
		}
		args = append([]string{"gen", "--users", strconv.Itoa(users), "--seed", strconv.Itoa(c.seed), "--org", org, "--out", out + ".tmp"}, args...)
		if err := runCmd(ctx, b.verdict, args...); err != nil {
			return err
		}
		return os.Rename(out+".tmp", out)
	}
	logf("%d users: generating the org and the request mixes", users)
	if err := gen(doc); err != nil {
		return s, err
	}
	mixFile := map[string]string{}
	for _, m := range c.mixes {
		mixFile[m] = filepath.Join(c.work, fmt.Sprintf("req-%s-%s-%d.jsonl", tag, m, c.requests))
		if err := gen(mixFile[m], "--requests", strconv.Itoa(c.requests), "--mix", m); err != nil {
			return s, err
		}
	}
	if _, err := os.Stat(bundle); err != nil {
		logf("%d users: building the bundle for stock OPA", users)
		if err := runCmd(ctx, b.verdict, "bundle", "build", "--from", doc, "--org", org, "--out", bundle); err != nil {
			return s, err
		}
	}
	if fi, err := os.Stat(bundle); err == nil {
		s.BundleBytes = fi.Size()
	}

	// Redis, fresh, without persistence: the import is measured, not a disk.
	raddr, err := freeAddr()
	if err != nil {
		return s, err
	}
	port := raddr[strings.LastIndex(raddr, ":")+1:]
	rp, err := start("redis-server", filepath.Join(c.work, "redis-"+tag+".log"), "redis-server",
		"--bind", "127.0.0.1", "--port", port, "--save", "", "--appendonly", "no")
	if err != nil {
		return s, err
	}
	defer rp.stop()
	rdb := redis.NewClient(&redis.Options{Addr: raddr})
	defer rdb.Close()
	for i := 0; rdb.Ping(ctx).Err() != nil; i++ {
		if i > 100 {
			return s, fmt.Errorf("redis-server did not start: see %s", rp.log.Name())
		}
		time.Sleep(50 * time.Millisecond)
	}
	before := usedMemory(ctx, rdb)
	logf("%d users: importing into Redis", users)
	t0 := time.Now()
	// Its RSS is sampled from /proc: the rusage of a child forked from this
	// (large) process would count pages it shared with the parent before exec.
	ip, err := start("verdict import", filepath.Join(c.work, "import-"+tag+".log"), b.verdict, "import", doc, "--redis-url", "redis://"+raddr)
	if err != nil {
		return s, err
	}
	err = ip.cmd.Wait()
	s.ImportSeconds = time.Since(t0).Seconds()
	s.ImportPeakRSSMiB = ip.peakMiB()
	ip.stopped()
	if err != nil {
		out, _ := os.ReadFile(ip.log.Name())
		return s, fmt.Errorf("verdict import: %v\n%s", err, out)
	}
	s.RedisBytesPer = float64(usedMemory(ctx, rdb)-before) / float64(users)

	first, err := firstRequest(mixFile[c.mixes[0]])
	if err != nil {
		return s, err
	}

	// Stock OPA on the bundle.
	oaddr, _ := freeAddr()
	ostart := time.Now()
	op, err := start("opa", filepath.Join(c.work, "opa-"+tag+".log"), b.opa,
		"run", "--server", "--addr", oaddr, "--log-level", "error", bundle)
	if err != nil {
		return s, err
	}
	defer op.stop()
	opaURL := "http://" + oaddr
	opaPath := "verdict/orgs/" + org + "/main/decision"
	ttfa, err := firstAnswer(ctx, op, ostart, opaURL+"/v1/data/"+opaPath, []byte(`{"input":`+string(first)+`}`), 5*time.Minute)
	if err != nil {
		return s, err
	}
	s.OPA.FirstAnswerSeconds = ttfa.Seconds()
	logf("%d users: stock OPA answered %.2fs after start", users, ttfa.Seconds())

	// Verdict on Redis.
	vaddr, _ := freeAddr()
	vstart := time.Now()
	vp, err := start("verdict", filepath.Join(c.work, "verdict-"+tag+".log"), b.verdict,
		"serve", "--addr", vaddr, "--redis-url", "redis://"+raddr, "--auth", "none")
	if err != nil {
		return s, err
	}
	defer vp.stop()
	verdictURL := "http://" + vaddr
	ttfa, err = firstAnswer(ctx, vp, vstart, verdictURL+"/access/v1/evaluation", first, time.Minute)
	if err != nil {
		return s, err
	}
	s.Verdict.FirstAnswerSeconds = ttfa.Seconds()
	logf("%d users: verdict answered %.3fs after start", users, ttfa.Seconds())

	// Each phase sends its own part of the mix, the same part to both
	// servers: no phase replays requests an earlier one sent (which a
	// decision cache would answer).
	const (
		warmPart, throughputPart, latencyPart, batchPart = 0.0, 0.1, 0.5, 0.75
	)
	load := func(url string, api string, mix string, part float64, rate float64, conc, batch int, d time.Duration) (bench.Result, error) {
		per := max(batch, 1)
		cfg := bench.Config{URL: url, API: api, OPAPath: opaPath, Duration: d, Concurrency: conc, Batch: batch,
			MaxRequests: int64(float64(c.requests) * 0.25 / float64(per)), Corpora: []string{mixFile[mix]}, Rate: rate,
			Offset: int(part * float64(c.requests) / float64(per))}
		if err := cfg.Validate(); err != nil {
			return bench.Result{}, err
		}
		return bench.Load(ctx, cfg)
	}
	// Both servers, in the order they are loaded.
	servers := []struct {
		s        *Server
		url, api string
	}{{&s.OPA, opaURL, "opa"}, {&s.Verdict, verdictURL, "authzen"}}
	for _, mix := range c.mixes {
		for _, srv := range servers {
			// A short warm-up, alike for both, then the measured closed loop.
			if _, err := load(srv.url, srv.api, mix, warmPart, 0, c.concurrency, 1, 3*time.Second); err != nil {
				return s, err
			}
			r, err := load(srv.url, srv.api, mix, throughputPart, 0, c.concurrency, 1, c.duration)
			if err != nil {
				return s, err
			}
			srv.s.Mix[mix] = Mix{DecisionsPerSec: float64(r.Decisions) / r.Elapsed.Seconds(), Errors: r.Errors}
			logf("%d users, %s mix, %s: %s", users, mix, srv.s.Name, r)
		}
		// The same open-loop load on both: half of what stock OPA sustains.
		rate := s.OPA.Mix[mix].DecisionsPerSec / 2
		for _, srv := range servers {
			r, err := load(srv.url, srv.api, mix, latencyPart, rate, 64, 1, c.duration)
			if err != nil {
				return s, err
			}
			m := srv.s.Mix[mix]
			m.Rate, m.P50, m.P99 = rate, ms(r.P50), ms(r.P99)
			m.Errors += r.Errors
			srv.s.Mix[mix] = m
			logf("%d users, %s mix at %.0f/s, %s: %s", users, mix, rate, srv.s.Name, r)
		}
	}
	// One AuthZEN batch of 100 evaluations at a time: its latency.
	r, err := load(verdictURL, "authzen", c.mixes[0], batchPart, 0, 1, 100, c.duration/2)
	if err != nil {
		return s, err
	}
	s.Batch100 = &Latency{P50: ms(r.P50), P99: ms(r.P99), Errors: r.Errors}
	logf("%d users, batches of 100, verdict: %s", users, r)
	s.OPA.PeakRSSMiB, s.Verdict.PeakRSSMiB = op.peakMiB(), vp.peakMiB()
	return s, nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func runCmd(ctx context.Context, bin string, args ...string) error {
	if out, err := exec.CommandContext(ctx, bin, args...).CombinedOutput(); err != nil {
		return fmt.Errorf("%s %s: %v\n%s", filepath.Base(bin), strings.Join(args, " "), err, out)
	}
	return nil
}

func usedMemory(ctx context.Context, rdb *redis.Client) int64 {
	info, _ := rdb.Info(ctx, "memory").Result()
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "used_memory:"); ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			return n
		}
	}
	return 0
}

func firstRequest(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	if !sc.Scan() {
		return nil, fmt.Errorf("%s is empty", path)
	}
	return append([]byte(nil), sc.Bytes()...), nil
}

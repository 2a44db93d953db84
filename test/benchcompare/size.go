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
	"github.com/verdict-pdp/verdict/internal/cmd/gen"
)

const org = "gen"

// genVersion names the shape of what `verdict gen` writes; cached files of
// another shape (an older checkout's) are not reused. Bump it when gen's
// output changes.
const genVersion = "g2"

// Each phase sends its own part of a request file (fractions of its lines),
// the same part to every server: no phase replays requests an earlier one
// sent (which a decision cache would answer).
const (
	warmFrom, warmTo             = 0.00, 0.05
	throughputFrom, throughputTo = 0.05, 0.55
	latencyFrom, latencyTo       = 0.55, 0.85
	agreeFrom                    = 0.90
)

// target is one server under test.
type target struct {
	s    *Server
	url  string
	api  string // "opa" (OPA's data API) or "authzen"
	path string // request path
	data string // with api "opa": the data path queried
}

// measureSize runs everything for one org size.
func measureSize(ctx context.Context, c config, b binaries, users int) (Size, error) {
	s := Size{Users: users,
		OPA:       Server{Name: "OPA " + b.opaVersion + " + Verdict bundle", Mix: map[string]Mix{}},
		Hand:      Server{Name: "OPA " + b.opaVersion + " + hand-written", Mix: map[string]Mix{}},
		Verdict:   Server{Name: "verdict serve", Mix: map[string]Mix{}},
		Agreement: map[string]Agreement{}}
	tag := fmt.Sprintf("%d-s%d-%s", users, c.seed, genVersion)
	doc := filepath.Join(c.work, "org-"+tag+".json")
	bundle := filepath.Join(c.work, "org-"+tag+".tar.gz")
	genFile := func(out string, args ...string) error {
		if _, err := os.Stat(out); err == nil {
			return nil // generated data is deterministic: reuse it
		}
		args = append([]string{"gen", "--users", strconv.Itoa(users), "--seed", strconv.Itoa(c.seed), "--org", org, "--out", out + ".tmp"}, args...)
		if err := runCmd(ctx, b.verdict, args...); err != nil {
			return err
		}
		return os.Rename(out+".tmp", out)
	}
	logf("%d users: generating the org and the request files", users)
	if err := genFile(doc); err != nil {
		return s, err
	}
	mixFile := map[string]string{}
	for _, m := range append(append([]string(nil), c.mixes...), gen.MixScreens) {
		mixFile[m] = filepath.Join(c.work, fmt.Sprintf("req-%s-%s-%d.jsonl", tag, m, c.requests))
		if err := genFile(mixFile[m], "--requests", strconv.Itoa(c.requests), "--mix", m); err != nil {
			return s, err
		}
	}
	if _, err := os.Stat(bundle); err != nil {
		logf("%d users: building Verdict's bundle for stock OPA", users)
		if err := runCmd(ctx, b.verdict, "bundle", "build", "--from", doc, "--org", org, "--out", bundle); err != nil {
			return s, err
		}
	}
	if fi, err := os.Stat(bundle); err == nil {
		s.BundleBytes = fi.Size()
	}
	hand, err := handBundleName(bundle)
	if err != nil {
		return s, err
	}
	if _, err := os.Stat(hand); err != nil {
		logf("%d users: building the hand-written bundle (the same data.json)", users)
		if err := writeHandBundle(bundle, hand); err != nil {
			return s, err
		}
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
	// The three servers, started one after the other (each timed to its
	// first answer alone), loaded one after the other.
	bundleData := "verdict/orgs/" + org + "/main/decision"
	targets := []*target{
		{s: &s.OPA, api: "opa", path: "/v1/data/" + bundleData, data: bundleData},
		{s: &s.Hand, api: "opa", path: "/v1/data/" + handPath, data: handPath},
		{s: &s.Verdict, api: "authzen", path: "/access/v1/evaluation"},
	}
	opaT, handT, verdictT := targets[0], targets[1], targets[2]
	procs := make([]*proc, len(targets))
	defer func() {
		for _, p := range procs {
			if p != nil {
				p.stop()
			}
		}
	}()
	for i, t := range targets {
		addr, err := freeAddr()
		if err != nil {
			return s, err
		}
		t.url = "http://" + addr
		var p *proc
		t0, limit, body := time.Now(), 5*time.Minute, []byte(`{"input":`+string(first)+`}`)
		switch t {
		case opaT:
			p, err = start("opa", filepath.Join(c.work, "opa-"+tag+".log"), b.opa, "run", "--server", "--addr", addr, "--log-level", "error", bundle)
		case handT:
			p, err = start("opa (hand-written)", filepath.Join(c.work, "opa-hand-"+tag+".log"), b.opa, "run", "--server", "--addr", addr, "--log-level", "error", hand)
		default:
			p, err = start("verdict", filepath.Join(c.work, "verdict-"+tag+".log"), b.verdict, "serve", "--addr", addr, "--redis-url", "redis://"+raddr, "--auth", "none", "--access-log", "off")
			limit, body = time.Minute, first
		}
		if err != nil {
			return s, err
		}
		procs[i] = p
		ttfa, err := firstAnswer(ctx, p, t0, t.url+t.path, body, limit)
		if err != nil {
			return s, err
		}
		t.s.FirstAnswerSeconds = ttfa.Seconds()
		logf("%d users: %s answered %.3fs after start", users, t.s.Name, ttfa.Seconds())
	}

	lines := func(from, to float64) (int, int) {
		a := int(from * float64(c.requests))
		return a, max(int(to*float64(c.requests))-a, 1)
	}
	// Do the three agree? Verdict is the reference.
	for _, mix := range c.mixes {
		at, _ := lines(agreeFrom, 1)
		a, err := checkAgreement(ctx, mixFile[mix], at, c.agree, verdictT, opaT, handT)
		if err != nil {
			return s, err
		}
		s.Agreement[mix] = a
		logf("%d users, %s mix: %d requests checked: hand-written disagrees with verdict on %d decisions, OPA bundle on %d (%d contexts)",
			users, mix, a.Checked, a.HandDecision, a.BundleDecision, a.BundleContext)
		for _, e := range a.Examples {
			logf("  %s", e)
		}
	}

	wrkRun := func(t *target, mix string, from, to float64, d time.Duration) (wrkResult, error) {
		at, n := lines(from, to)
		return runWrk(ctx, c.work, wrkLoad{url: t.url, path: t.path, api: t.api, file: mixFile[mix], start: at, count: n,
			threads: c.threads, conns: c.concurrency, duration: d})
	}
	for _, mix := range c.mixes {
		for _, t := range targets {
			// A short warm-up, alike for all, then the measured closed loop.
			if _, err := wrkRun(t, mix, warmFrom, warmTo, 3*time.Second); err != nil {
				return s, err
			}
			r, err := wrkRun(t, mix, throughputFrom, throughputTo, c.duration)
			if err != nil {
				return s, err
			}
			t.s.Mix[mix] = Mix{DecisionsPerSec: r.perSec(), Errors: r.errors(), Repeated: r.Repeated}
			logf("%d users, %s mix, %s: %s", users, mix, t.s.Name, r)
		}
		// The same open-loop load on all: half of what the faster stock OPA
		// sustains on this mix.
		peak, of := s.OPA.Mix[mix].DecisionsPerSec, s.OPA.Name
		if h := s.Hand.Mix[mix].DecisionsPerSec; h > peak {
			peak, of = h, s.Hand.Name
		}
		rate := max(peak/2, 1)
		for _, t := range targets {
			at, n := lines(latencyFrom, latencyTo)
			cfg := bench.Config{URL: t.url, API: t.api, OPAPath: t.data, Duration: c.duration, Concurrency: 64,
				MaxRequests: int64(n), Corpora: []string{mixFile[mix]}, Rate: rate, Offset: at}
			if err := cfg.Validate(); err != nil {
				return s, err
			}
			r, err := bench.Load(ctx, cfg)
			if err != nil {
				return s, err
			}
			m := t.s.Mix[mix]
			m.Rate, m.RateOf, m.P50, m.P99 = rate, of, ms(r.P50), ms(r.P99)
			m.Errors += r.Errors
			t.s.Mix[mix] = m
			logf("%d users, %s mix at %.0f/s, %s: %s", users, mix, rate, t.s.Name, r)
		}
	}
	// Screens: one AuthZEN batch of 100 distinct items for one user in one
	// project and environment at a time, a new screen each time.
	screens := c.requests / gen.ScreenSize
	cfg := bench.Config{URL: verdictT.url, API: "authzen", Duration: c.duration / 2, Concurrency: 1, Batch: gen.ScreenSize,
		MaxRequests: int64(screens), Corpora: []string{mixFile[gen.MixScreens]}}
	if err := cfg.Validate(); err != nil {
		return s, err
	}
	r, err := bench.Load(ctx, cfg)
	if err != nil {
		return s, err
	}
	s.Screen100 = &Latency{P50: ms(r.P50), P99: ms(r.P99), Errors: r.Errors, Screens: r.Requests}
	logf("%d users, screens of 100 (one batch each), verdict: %s", users, r)
	for i, t := range targets {
		t.s.PeakRSSMiB = procs[i].peakMiB()
	}
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

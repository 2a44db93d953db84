// Command benchcompare is `make bench-compare`: Verdict and the stock OPA
// server, side by side, on the same facts, the same request streams and the
// same load generator, at several org sizes. Stock OPA runs twice: on
// Verdict's own bundle (the same policies), and on a minimal hand-written
// policy for just the questions of the streams (handwritten/), both on the
// same data.
//
// For every user count it generates an org (`verdict gen`), imports it into a
// fresh redis-server (`verdict import`, timed, Redis memory per user read
// off INFO), builds Verdict's bundle of it (`verdict bundle build`: the
// policies, the whole org as OPA data) and a bundle of the same data.json
// with the hand-written policy, starts `opa run --server` on each and
// `verdict serve` on Redis, checks that the three agree on a sample of every
// stream (Verdict is the reference), and measures each, one after the other
// so that none competes with another for the machine's cores:
//
//   - time to first answer: from process start to the first decision;
//   - throughput: wrk (replay.lua), a closed loop of --concurrency
//     connections, each request sent once;
//   - latency under the same load for all three: an open loop at half of the
//     faster stock OPA's throughput on that stream, p50 and p99 counted from
//     each request's scheduled time (verdict bench's generator);
//   - peak RSS of each server over the whole run;
//   - for Verdict, screens: AuthZEN batches of 100 distinct decisions for one
//     user in one project and environment (UI flows, components, swimlanes).
//
// The streams (`verdict gen --requests --mix`): sessions (users at work, as
// front ends ask), uniform (user, project, environment drawn afresh for every
// request) and norepeat (no request ever repeats: nothing a cache holds
// answers one). It prints a table, the ratios and the targets, and
// writes results.json and a PNG plot of throughput and RSS against user count.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/verdict-pdp/verdict/internal/cmd/gen"
)

type config struct {
	users       []int
	seed        int
	requests    int
	duration    time.Duration
	concurrency int
	threads     int
	agree       int
	mixes       []string
	work, out   string
}

func main() {
	c := config{}
	users := flag.String("users", "10000,1000000", "org sizes (end users), comma-separated")
	mixes := flag.String("mixes", "sessions,uniform,norepeat", "request streams (see verdict gen --mix)")
	flag.IntVar(&c.seed, "seed", 1, "generator seed")
	flag.IntVar(&c.requests, "requests", 1000000, "requests generated per stream (each phase of a run sends its own part)")
	flag.DurationVar(&c.duration, "duration", 20*time.Second, "length of each measured load")
	flag.IntVar(&c.concurrency, "concurrency", 16, "wrk connections (closed loop: requests in flight)")
	flag.IntVar(&c.threads, "threads", 2, "wrk threads")
	flag.IntVar(&c.agree, "agree", 2000, "requests of each stream sent to the three servers to compare their answers")
	flag.StringVar(&c.work, "work", ".bench", "working directory (generated data is kept and reused)")
	flag.StringVar(&c.out, "out", "docs/bench-compare", "where results.json and the plot go")
	replot := flag.String("replot", "", "only redraw the plot and the report from this results.json")
	flag.Parse()
	if *replot != "" {
		if err := redraw(*replot); err != nil {
			fatalf("%v", err)
		}
		return
	}
	for _, u := range strings.Split(*users, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(u))
		if err != nil || n < 100 {
			fatalf("--users: %q is not a user count >= 100", u)
		}
		c.users = append(c.users, n)
	}
	c.mixes = strings.Split(*mixes, ",")
	for _, m := range c.mixes {
		if m != gen.MixSessions && m != gen.MixUniform && m != gen.MixNoRepeat {
			fatalf("--mixes: %q is not one of %s, %s, %s", m, gen.MixSessions, gen.MixUniform, gen.MixNoRepeat)
		}
	}
	if c.requests < 10*gen.ScreenSize || c.requests%gen.ScreenSize != 0 {
		fatalf("--requests must be a multiple of %d, at least %d", gen.ScreenSize, 10*gen.ScreenSize)
	}
	if c.concurrency < 1 || c.threads < 1 || c.agree < 1 {
		fatalf("--concurrency, --threads and --agree must be at least 1")
	}
	if _, err := exec.LookPath("wrk"); err != nil {
		fatalf("wrk is not installed (make bench-compare installs it: apt-get install wrk)")
	}
	if err := run(context.Background(), c); err != nil {
		fatalf("%v", err)
	}
}

func redraw(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var r Results
	if err := json.Unmarshal(b, &r); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	report(os.Stdout, r)
	return drawPlot(r, filepath.Join(filepath.Dir(path), "bench-compare.png"))
}

func fatalf(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "bench-compare: "+format+"\n", a...)
	os.Exit(1)
}

func logf(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "%s  "+format+"\n", append([]any{time.Now().Format("15:04:05")}, a...)...)
}

func run(ctx context.Context, c config) error {
	if err := os.MkdirAll(c.work, 0o755); err != nil {
		return err
	}
	if err := os.MkdirAll(c.out, 0o755); err != nil {
		return err
	}
	bins, err := build(ctx, c.work)
	if err != nil {
		return err
	}
	res := Results{Machine: machine(), OPAVersion: bins.opaVersion, Started: time.Now().UTC(),
		Duration: c.duration.String(), Concurrency: c.concurrency, Threads: c.threads}
	for _, n := range c.users {
		s, err := measureSize(ctx, c, bins, n)
		if err != nil {
			return fmt.Errorf("%d users: %w", n, err)
		}
		res.Sizes = append(res.Sizes, s)
		// Written after every size, so a long run leaves what it measured.
		if err := res.save(c.out); err != nil {
			return err
		}
	}
	report(os.Stdout, res)
	if err := drawPlot(res, filepath.Join(c.out, "bench-compare.png")); err != nil {
		return err
	}
	logf("wrote %s and %s", filepath.Join(c.out, "results.json"), filepath.Join(c.out, "bench-compare.png"))
	return nil
}

// Results is what a run measured (results.json).
type Results struct {
	Machine     string    `json:"machine"`
	OPAVersion  string    `json:"opa_version"`
	Started     time.Time `json:"started"`
	Duration    string    `json:"duration_per_load"`
	Concurrency int       `json:"concurrency"` // wrk connections
	Threads     int       `json:"wrk_threads"`
	Sizes       []Size    `json:"sizes"`
}

// Size is one org size.
type Size struct {
	Users            int     `json:"users"`
	ImportSeconds    float64 `json:"import_seconds"`
	ImportPeakRSSMiB float64 `json:"import_peak_rss_mib"`
	RedisBytesPer    float64 `json:"redis_bytes_per_user"`
	BundleBytes      int64   `json:"bundle_bytes"`
	// Stock OPA on Verdict's bundle, stock OPA on the hand-written policy
	// (the same data), and Verdict.
	OPA     Server `json:"opa"`
	Hand    Server `json:"opa_handwritten"`
	Verdict Server `json:"verdict"`
	// One AuthZEN batch of 100 distinct decisions for one user, project and
	// environment (a screen), one at a time.
	Screen100 *Latency `json:"verdict_screen100,omitempty"`
	// Per stream: do the stock OPAs answer as Verdict does?
	Agreement map[string]Agreement `json:"agreement"`
}

// Server is one PDP at one size.
type Server struct {
	Name               string         `json:"name"`
	FirstAnswerSeconds float64        `json:"first_answer_seconds"`
	PeakRSSMiB         float64        `json:"peak_rss_mib"`
	Mix                map[string]Mix `json:"mix"`
}

// Mix is one request stream on one server.
type Mix struct {
	DecisionsPerSec float64 `json:"decisions_per_sec"` // wrk, closed loop
	Errors          int64   `json:"errors"`
	// Requests wrk sent a second time in the throughput run (its part of
	// the file ran out): a no-repeat run that repeated is not one.
	Repeated int64 `json:"repeated"`
	// Latency under the same open-loop load for all three servers: Rate is
	// half of RateOf's throughput (the faster stock OPA on this stream).
	Rate   float64 `json:"rate"`
	RateOf string  `json:"rate_of"`
	P50    float64 `json:"p50_ms"`
	P99    float64 `json:"p99_ms"`
}

// Latency of one kind of request.
type Latency struct {
	P50     float64 `json:"p50_ms"`
	P99     float64 `json:"p99_ms"`
	Errors  int64   `json:"errors"`
	Screens int64   `json:"screens"`
}

func (r Results) save(dir string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "results.json"), append(b, '\n'), 0o644)
}

func machine() string {
	out, _ := exec.Command("sh", "-c", `grep -m1 "model name" /proc/cpuinfo | cut -d: -f2; nproc; grep MemTotal /proc/meminfo`).Output()
	f := strings.Fields(strings.ReplaceAll(string(out), "\n", " "))
	return strings.Join(f, " ")
}

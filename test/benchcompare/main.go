// Command benchcompare is `make bench-compare`: Verdict and the stock OPA
// server, side by side, on the same facts, the same rules, the same request
// mix and the same load generator, at several org sizes.
//
// For every user count it generates an org (`verdict gen`), imports it into a
// fresh redis-server (`verdict import`, timed, Redis memory per user read
// off INFO), builds Verdict's bundle of it for stock OPA (`verdict bundle
// build`: the same policies, the whole org as OPA data), starts `opa run
// --server` on that bundle and `verdict serve` on Redis, and measures on
// each, one after the other so that neither competes with the other for
// the machine's cores:
//
//   - time to first answer: from process start to the first decision;
//   - throughput: a closed loop of --concurrency requests in flight;
//   - latency under the same load: an open loop at half of stock OPA's
//     throughput on that mix, p50 and p99 counted from each request's
//     scheduled time;
//   - peak RSS of each server over the whole run;
//   - for Verdict, the latency of one AuthZEN batch of 100 evaluations.
//
// Both mixes of `verdict gen --requests` are sent: sessions (users at work,
// the headline) and uniform (no two requests alike: no cache helps).
// It prints a table, the ratios and the targets, and writes
// results.json and a PNG plot of throughput and RSS against user count.
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
)

type config struct {
	users       []int
	seed        int
	requests    int
	duration    time.Duration
	concurrency int
	mixes       []string
	work, out   string
}

func main() {
	c := config{}
	users := flag.String("users", "10000,1000000", "org sizes (end users), comma-separated")
	mixes := flag.String("mixes", "sessions,uniform", "request mixes (see verdict gen --mix)")
	flag.IntVar(&c.seed, "seed", 1, "generator seed")
	flag.IntVar(&c.requests, "requests", 1000000, "requests generated per mix (each phase of a run sends its own part)")
	flag.DurationVar(&c.duration, "duration", 20*time.Second, "length of each measured load")
	flag.IntVar(&c.concurrency, "concurrency", 8, "requests in flight (closed loop)")
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
		Duration: c.duration.String(), Concurrency: c.concurrency}
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
	Concurrency int       `json:"concurrency"`
	Sizes       []Size    `json:"sizes"`
}

// Size is one org size.
type Size struct {
	Users            int      `json:"users"`
	ImportSeconds    float64  `json:"import_seconds"`
	ImportPeakRSSMiB float64  `json:"import_peak_rss_mib"`
	RedisBytesPer    float64  `json:"redis_bytes_per_user"`
	BundleBytes      int64    `json:"bundle_bytes"`
	OPA              Server   `json:"opa"`
	Verdict          Server   `json:"verdict"`
	Batch100         *Latency `json:"verdict_batch100,omitempty"`
}

// Server is one PDP at one size.
type Server struct {
	Name               string         `json:"name"`
	FirstAnswerSeconds float64        `json:"first_answer_seconds"`
	PeakRSSMiB         float64        `json:"peak_rss_mib"`
	Mix                map[string]Mix `json:"mix"`
}

// Mix is one request mix on one server.
type Mix struct {
	DecisionsPerSec float64 `json:"decisions_per_sec"`
	Errors          int64   `json:"errors"`
	// Latency under the same open-loop load for both servers.
	Rate float64 `json:"rate"`
	P50  float64 `json:"p50_ms"`
	P99  float64 `json:"p99_ms"`
}

// Latency of one kind of request.
type Latency struct {
	P50    float64 `json:"p50_ms"`
	P99    float64 `json:"p99_ms"`
	Errors int64   `json:"errors"`
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

// Package bench is `verdict bench`: a closed-loop load generator for any
// AuthZEN PDP (Verdict central or edge, or another vendor's). Workers send a
// mix of evaluation requests taken from decision corpora — single
// evaluations, and batches of N — for a fixed time, and latencies go into an
// HDR histogram. It prints throughput (requests and decisions per second) and
// latency percentiles. Every request loop is bounded in count and time.
package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"github.com/verdict-pdp/verdict/internal/cmd/cliflag"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/verdict-pdp/verdict/internal/orgdoc"
)

// Config of a run.
type Config struct {
	URL         string
	Token       string
	Duration    time.Duration
	Concurrency int
	Batch       int // 0 or 1: single evaluations; N: evaluations batches of N
	MaxRequests int64
	Corpora     []string
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	if c.URL == "" {
		return fmt.Errorf("--url is required")
	}
	if len(c.Corpora) == 0 {
		return fmt.Errorf("give at least one corpus file with requests")
	}
	if c.Duration <= 0 || c.Duration > time.Hour {
		return fmt.Errorf("--duration must be in (0, 1h]")
	}
	if c.Concurrency <= 0 || c.Concurrency > 1024 {
		return fmt.Errorf("--concurrency must be in [1, 1024]")
	}
	return nil
}

// Result of a run.
type Result struct {
	Requests, Decisions, Errors int64
	Elapsed                     time.Duration
	P50, P90, P99, P999, Max    time.Duration
}

// String formats a result as a table row.
func (r Result) String() string {
	s := r.Elapsed.Seconds()
	return fmt.Sprintf("requests %d (%.0f/s)  decisions %d (%.0f/s)  errors %d  p50 %v  p90 %v  p99 %v  p99.9 %v  max %v",
		r.Requests, float64(r.Requests)/s, r.Decisions, float64(r.Decisions)/s, r.Errors, r.P50, r.P90, r.P99, r.P999, r.Max)
}

// Run runs the command.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	c := Config{}
	fs.StringVar(&c.URL, "url", "", "base URL of the PDP")
	fs.StringVar(&c.Token, "token", os.Getenv("VERDICT_TOKEN"), "caller bearer token (env VERDICT_TOKEN)")
	fs.DurationVar(&c.Duration, "duration", 10*time.Second, "how long to send")
	fs.IntVar(&c.Concurrency, "concurrency", 16, "requests in flight")
	fs.IntVar(&c.Batch, "batch", 1, "evaluations per request (1: /evaluation, N: /evaluations)")
	fs.Int64Var(&c.MaxRequests, "max-requests", 10_000_000, "stop after this many requests")
	var err error
	if c.Corpora, err = cliflag.Parse(fs, args); err != nil {
		return 2
	}
	if err := c.Validate(); err != nil {
		fmt.Fprintf(stderr, "verdict bench: %v\nusage: verdict bench --url URL [--batch N] [--duration D] [--concurrency C] CORPUS.json...\n", err)
		return 2
	}
	res, err := Load(ctx, c)
	if err != nil {
		fmt.Fprintf(stderr, "verdict bench: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "%s batch=%d concurrency=%d duration=%v\n%s\n", c.URL, max(c.Batch, 1), c.Concurrency, c.Duration, res)
	if res.Errors > 0 {
		return 1
	}
	return 0
}

// Load sends the configured load and measures it.
func Load(ctx context.Context, c Config) (Result, error) {
	bodies, path, err := requests(c)
	if err != nil {
		return Result{}, err
	}
	per := int64(max(c.Batch, 1))
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: c.Concurrency, MaxConnsPerHost: c.Concurrency}}
	url := strings.TrimRight(c.URL, "/") + path
	ctx, cancel := context.WithTimeout(ctx, c.Duration)
	defer cancel()
	var sent, errs atomic.Int64
	hists := make([]*hdrhistogram.Histogram, c.Concurrency)
	var wg sync.WaitGroup
	start := time.Now()
	for w := range c.Concurrency {
		hists[w] = hdrhistogram.New(1, int64(10*time.Second/time.Microsecond), 3)
		wg.Add(1)
		go func(h *hdrhistogram.Histogram, w int) {
			defer wg.Done()
			for i := w; ctx.Err() == nil; i += c.Concurrency {
				if sent.Add(1) > c.MaxRequests {
					return
				}
				t0 := time.Now()
				if err := send(ctx, client, url, c.Token, bodies[i%len(bodies)]); err != nil {
					if ctx.Err() == nil {
						errs.Add(1)
					}
					continue
				}
				_ = h.RecordValue(time.Since(t0).Microseconds())
			}
		}(hists[w], w)
	}
	wg.Wait()
	elapsed := time.Since(start)
	all := hdrhistogram.New(1, int64(10*time.Second/time.Microsecond), 3)
	for _, h := range hists {
		all.Merge(h)
	}
	us := func(q float64) time.Duration { return time.Duration(all.ValueAtQuantile(q)) * time.Microsecond }
	n := all.TotalCount()
	return Result{Requests: n, Decisions: n * per, Errors: errs.Load(), Elapsed: elapsed,
		P50: us(50), P90: us(90), P99: us(99), P999: us(99.9), Max: time.Duration(all.Max()) * time.Microsecond}, nil
}

func send(ctx context.Context, client *http.Client, url, token string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	return nil
}

// requests builds the request bodies: every evaluation of the corpora, as
// single requests or grouped into batches.
func requests(c Config) ([][]byte, string, error) {
	var evals []json.RawMessage
	for _, f := range c.Corpora {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, "", err
		}
		corpus, err := orgdoc.DecodeCorpus(b)
		if err != nil {
			return nil, "", fmt.Errorf("%s: %w", f, err)
		}
		for _, e := range corpus.Evaluations {
			evals = append(evals, e.Request)
		}
	}
	if len(evals) == 0 {
		return nil, "", fmt.Errorf("the corpora hold no evaluations")
	}
	if c.Batch <= 1 {
		out := make([][]byte, len(evals))
		for i, e := range evals {
			out[i] = e
		}
		return out, "/access/v1/evaluation", nil
	}
	var out [][]byte
	for i := range len(evals) {
		items := make([]json.RawMessage, c.Batch)
		for j := range c.Batch {
			items[j] = evals[(i+j)%len(evals)]
		}
		b, _ := json.Marshal(map[string]any{"evaluations": items})
		out = append(out, b)
	}
	return out, "/access/v1/evaluations", nil
}

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
	// Corpora are decision corpora (their evaluations are sent) or JSON
	// lines files (*.jsonl) of AuthZEN requests, such as `verdict gen
	// --requests` writes.
	Corpora []string
	// API is the protocol spoken: "authzen" (/access/v1/evaluation[s]) or
	// "opa" (POST /v1/data/OPAPath with {"input": request}, single only), so
	// that the same load can be sent to Verdict and to a stock OPA server.
	API     string
	OPAPath string
	// Rate > 0 sends an open-loop load of this many requests per second
	// (Concurrency bounds those in flight), and each latency is counted from
	// the request's scheduled time, so a stalled server shows in the tail
	// instead of slowing the load down. 0: closed loop, as fast as answers come.
	Rate float64
	// Offset is where in the requests (or batches) the load starts, so that
	// successive runs can send disjoint parts of one mix.
	Offset int
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
	switch c.API {
	case "", "authzen":
	case "opa":
		if c.Batch > 1 {
			return fmt.Errorf("--api opa sends single decisions: OPA's data API has no batch")
		}
		if c.OPAPath == "" {
			return fmt.Errorf("--api opa needs --opa-path (e.g. verdict/main/decision)")
		}
	default:
		return fmt.Errorf("--api must be authzen or opa")
	}
	if c.Offset < 0 {
		return fmt.Errorf("--offset must be >= 0")
	}
	if c.Rate < 0 {
		return fmt.Errorf("--rate must be >= 0")
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
	fs.StringVar(&c.API, "api", "authzen", "protocol: authzen, or opa (OPA's data API)")
	fs.StringVar(&c.OPAPath, "opa-path", "verdict/main/decision", "with --api opa: the data path of the decision")
	fs.Float64Var(&c.Rate, "rate", 0, "open loop: requests per second (0: closed loop, as fast as possible)")
	fs.IntVar(&c.Offset, "offset", 0, "start at this request (or batch) of the mix")
	fs.Int64Var(&c.MaxRequests, "max-requests", 10_000_000, "stop after this many requests")
	var err error
	if c.Corpora, err = cliflag.Parse(fs, args); err != nil {
		return 2
	}
	if err := c.Validate(); err != nil {
		fmt.Fprintf(stderr, "verdict bench: %v\nusage: verdict bench --url URL [--api authzen|opa] [--batch N] [--duration D] [--concurrency C] CORPUS.json|REQUESTS.jsonl...\n", err)
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
	// Closed loop: each worker sends as soon as its answer came. Open loop:
	// workers take scheduled send times from a pacer.
	var schedule chan time.Time
	if c.Rate > 0 {
		schedule = make(chan time.Time, c.Concurrency)
		go pace(ctx, schedule, start, c.Rate)
	}
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
				if schedule != nil {
					var ok bool
					if t0, ok = <-schedule; !ok {
						return
					}
					if d := time.Until(t0); d > 0 {
						time.Sleep(d)
					}
				}
				if err := send(ctx, client, url, c.Token, bodies[(c.Offset+i)%len(bodies)]); err != nil {
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

// pace emits the scheduled send time of every request of an open-loop load
// until ctx ends; the channel's small buffer makes a late schedule wait for a
// free worker, and that wait counts in the latency.
func pace(ctx context.Context, out chan<- time.Time, start time.Time, rate float64) {
	defer close(out)
	interval := time.Duration(float64(time.Second) / rate)
	for k := int64(0); ; k++ {
		t := start.Add(time.Duration(k) * interval)
		if d := time.Until(t); d > 0 {
			select {
			case <-ctx.Done():
				return
			case <-time.After(d):
			}
		}
		select {
		case <-ctx.Done():
			return
		case out <- t:
		}
	}
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
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	// An OPA path that names nothing answers 200 with {}: not a decision.
	if !bytes.Contains(b, []byte(`"decision"`)) {
		return fmt.Errorf("the answer holds no decision: %.200s", b)
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
		if strings.HasSuffix(f, ".jsonl") {
			lines, err := jsonLines(f, b)
			if err != nil {
				return nil, "", err
			}
			evals = append(evals, lines...)
			continue
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
	if c.API == "opa" {
		out := make([][]byte, len(evals))
		for i, e := range evals {
			out[i] = append(append([]byte(`{"input":`), e...), '}')
		}
		return out, "/v1/data/" + strings.Trim(c.OPAPath, "/"), nil
	}
	if c.Batch <= 1 {
		out := make([][]byte, len(evals))
		for i, e := range evals {
			out[i] = e
		}
		return out, "/access/v1/evaluation", nil
	}
	// Batches are disjoint runs of the requests (wrapping at the end), so a
	// batch never repeats the items of the one before it.
	var out [][]byte
	for i := range max(len(evals)/c.Batch, 1) {
		items := make([]json.RawMessage, c.Batch)
		for j := range c.Batch {
			items[j] = evals[(i*c.Batch+j)%len(evals)]
		}
		b, _ := json.Marshal(map[string]any{"evaluations": items})
		out = append(out, b)
	}
	return out, "/access/v1/evaluations", nil
}

// jsonLines reads one request per non-empty line, each checked to be JSON.
func jsonLines(name string, b []byte) ([]json.RawMessage, error) {
	var out []json.RawMessage
	for i, line := range bytes.Split(b, []byte("\n")) {
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		if !json.Valid(line) {
			return nil, fmt.Errorf("%s:%d: not a JSON request", name, i+1)
		}
		out = append(out, json.RawMessage(line))
	}
	return out, nil
}

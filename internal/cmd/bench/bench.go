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
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/verdict-pdp/verdict/client"
	"github.com/verdict-pdp/verdict/internal/cmd/cliflag"
	"github.com/verdict-pdp/verdict/internal/conformance"
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
	// TLS, for an https:// URL: the CA to trust and, for mutual TLS, the
	// client certificate (--ca-cert, --cert, --key).
	TLS *tls.Config
	// Progress, when set, is called about once a second with the time
	// elapsed and the requests answered so far.
	Progress func(elapsed time.Duration, requests int64)
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	if c.URL == "" {
		return fmt.Errorf("--url is required")
	}
	if _, err := c.client(); err != nil {
		return fmt.Errorf("--url: %w", err)
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

// client is the PDP client of a run: one connection per worker, a request
// timeout, and no retries: a load generator counts failures, it does not
// hide them (a retried request would count its retries in its latency).
func (c Config) client() (*client.Client, error) {
	cfg := client.Config{BaseURL: c.URL, Timeout: 10 * time.Second, Retries: -1, MaxConns: c.Concurrency, UserAgent: "verdict-bench", TLS: c.TLS}
	if c.Token != "" {
		cfg.Tokens = client.StaticToken(c.Token)
	}
	return client.New(cfg)
}

// Result of a run.
type Result struct {
	Requests, Decisions, Errors int64
	Elapsed                     time.Duration
	P50, P90, P99, P999, Max    time.Duration
	// Allow and Deny count the decisions answered; Reasons counts the
	// denials by context.reason ("" when a denial gave none).
	Allow, Deny int64
	Reasons     map[string]int64
	// Orgs counts the answers per org of the requests (context.org), so
	// that a server that does not hold an org is told apart from one that
	// denies.
	Orgs conformance.OrgTally
	// CorpusOrgs are the orgs the corpora define, and "" for their requests
	// without context.org; nil when a JSON lines file was sent (its orgs
	// are defined nowhere).
	CorpusOrgs []string
}

// String formats a result as a table row.
func (r Result) String() string {
	s := r.Elapsed.Seconds()
	return fmt.Sprintf("requests %d (%.0f/s)  decisions %d (%.0f/s)  errors %d  p50 %v  p90 %v  p99 %v  p99.9 %v  max %v",
		r.Requests, float64(r.Requests)/s, r.Decisions, float64(r.Decisions)/s, r.Errors, r.P50, r.P90, r.P99, r.P999, r.Max)
}

// Breakdown formats the answers: allow and deny, and the denials by reason,
// most frequent first.
func (r Result) Breakdown() string {
	n := r.Allow + r.Deny
	pct := func(k int64) float64 {
		if n == 0 {
			return 0
		}
		return 100 * float64(k) / float64(n)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "answers %d: allow %d (%.1f%%)  deny %d (%.1f%%)", n, r.Allow, pct(r.Allow), r.Deny, pct(r.Deny))
	reasons := make([]string, 0, len(r.Reasons))
	for k := range r.Reasons {
		reasons = append(reasons, k)
	}
	sort.Slice(reasons, func(i, j int) bool {
		if r.Reasons[reasons[i]] != r.Reasons[reasons[j]] {
			return r.Reasons[reasons[i]] > r.Reasons[reasons[j]]
		}
		return reasons[i] < reasons[j]
	})
	if len(reasons) > 0 {
		b.WriteString("\ndeny reasons:")
		for _, k := range reasons {
			name := k
			if name == "" {
				name = "(none given)"
			}
			fmt.Fprintf(&b, "  %s %d (%.1f%%)", name, r.Reasons[k], pct(r.Reasons[k]))
		}
	}
	return b.String()
}

// Run runs the command.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cmd := cliflag.New("bench", "--url URL [flags] CORPUS.json|REQUESTS.jsonl...",
		`A load generator for any AuthZEN PDP (Verdict central or edge, another vendor's) or, with
--api opa, any OPA server. Workers send the evaluations of decision corpora (or of JSON lines
files of requests, as "verdict gen --requests" writes) for --duration, singly or in batches,
and the latencies go into an HDR histogram. Prints requests and decisions per second, latency
percentiles, and the answers: allow, deny and the denials by reason. When every answer about
an org is unknown_org, it says the server does not hold that org. Exits 1 when a request
failed or an org of the corpus is unknown to the server.`,
		"verdict bench --url http://127.0.0.1:8181 data/demo.json",
		"verdict bench --url http://127.0.0.1:8181 --batch 100 --concurrency 4 --duration 30s data/demo.json",
		"verdict gen --users 10000 --requests 100000 --out req.jsonl && verdict bench --url http://127.0.0.1:8181 --rate 2000 req.jsonl",
		"verdict bench --url http://127.0.0.1:8181 --api opa --opa-path verdict/orgs/demo/main/decision data/demo.json  # stock OPA")
	c := Config{}
	cmd.StringVar(&c.URL, "url", "", "base `URL` of the PDP")
	cmd.StringVar(&c.Token, "token", "", "caller bearer `TOKEN`")
	cmd.Env("token", "VERDICT_TOKEN")
	cmd.DurationVar(&c.Duration, "duration", 10*time.Second, "how long to send")
	cmd.IntVar(&c.Concurrency, "concurrency", 16, "requests in flight")
	cmd.IntVar(&c.Batch, "batch", 1, "evaluations per request (1: /evaluation, N: /evaluations)")
	cmd.StringVar(&c.API, "api", "authzen", "protocol: authzen, or opa (OPA's data API)")
	cmd.StringVar(&c.OPAPath, "opa-path", "verdict/main/decision", "with --api opa: the data `PATH` of the decision")
	cmd.Float64Var(&c.Rate, "rate", 0, "open loop: requests per second (0: closed loop, as fast as answers come)")
	cmd.IntVar(&c.Offset, "offset", 0, "start at this request (or batch) of the mix")
	cmd.Int64Var(&c.MaxRequests, "max-requests", 10_000_000, "stop after this many requests")
	tlsFiles := cliflag.ClientTLS(cmd)
	var code int
	var ok bool
	if c.Corpora, code, ok = cmd.Parse(args, stdout, stderr); !ok {
		return code
	}
	var err error
	if c.TLS, err = tlsFiles(); err != nil {
		return cmd.Fail(stderr, "%v", err)
	}
	if err := c.Validate(); err != nil {
		return cmd.Fail(stderr, "%v", err)
	}
	p := cliflag.NewProgress(stderr, "bench")
	c.Progress = func(elapsed time.Duration, requests int64) {
		p.Line(int64(elapsed*4/c.Duration), fmt.Sprintf("%v/%v, %d requests", elapsed.Round(time.Second), c.Duration, requests))
	}
	res, err := Load(ctx, c)
	p.Done()
	if err != nil {
		fmt.Fprintf(stderr, "verdict bench: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "%s batch=%d concurrency=%d duration=%v\n%s\n%s\n", c.URL, max(c.Batch, 1), c.Concurrency, c.Duration, res, res.Breakdown())
	unknown := res.Orgs.Unknown(res.CorpusOrgs)
	conformance.HintUnknownOrgs(stderr, c.URL, strings.Join(c.Corpora, " "), res.Orgs, unknown)
	if res.Errors > 0 || len(unknown) > 0 {
		return 1
	}
	return 0
}

// Load sends the configured load and measures it.
func Load(ctx context.Context, c Config) (Result, error) {
	reqs, err := requests(c)
	if err != nil {
		return Result{}, err
	}
	per := int64(max(c.Batch, 1))
	cl, err := c.client()
	if err != nil {
		return Result{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, c.Duration)
	defer cancel()
	var sent, done, errs atomic.Int64
	hists := make([]*hdrhistogram.Histogram, c.Concurrency)
	tallies := make([]*tally, c.Concurrency)
	var wg sync.WaitGroup
	start := time.Now()
	if c.Progress != nil {
		go func() {
			tick := time.NewTicker(time.Second)
			defer tick.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-tick.C:
					c.Progress(time.Since(start), done.Load())
				}
			}
		}()
	}
	// Closed loop: each worker sends as soon as its answer came. Open loop:
	// workers take scheduled send times from a pacer.
	var schedule chan time.Time
	if c.Rate > 0 {
		schedule = make(chan time.Time, c.Concurrency)
		go pace(ctx, schedule, start, c.Rate)
	}
	for w := range c.Concurrency {
		hists[w] = hdrhistogram.New(1, int64(10*time.Second/time.Microsecond), 3)
		tallies[w] = newTally()
		wg.Add(1)
		go func(h *hdrhistogram.Histogram, t *tally, w int) {
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
				k := (c.Offset + i) % len(reqs.bodies)
				answers, err := send(ctx, cl, reqs.path, reqs.bodies[k], c.API)
				if err != nil {
					if ctx.Err() == nil {
						errs.Add(1)
					}
					continue
				}
				_ = h.RecordValue(time.Since(t0).Microseconds())
				done.Add(1)
				t.add(answers, reqs.orgs[k])
			}
		}(hists[w], tallies[w], w)
	}
	wg.Wait()
	elapsed := time.Since(start)
	all := hdrhistogram.New(1, int64(10*time.Second/time.Microsecond), 3)
	sum := newTally()
	for w, h := range hists {
		all.Merge(h)
		sum.merge(tallies[w])
	}
	us := func(q float64) time.Duration { return time.Duration(all.ValueAtQuantile(q)) * time.Microsecond }
	n := all.TotalCount()
	return Result{Requests: n, Decisions: n * per, Errors: errs.Load(), Elapsed: elapsed,
		P50: us(50), P90: us(90), P99: us(99), P999: us(99.9), Max: time.Duration(all.Max()) * time.Microsecond,
		Allow: sum.allow, Deny: sum.deny, Reasons: sum.reasons, Orgs: sum.orgs, CorpusOrgs: reqs.corpusOrgs}, nil
}

// tally counts one worker's answers (merged after the run: no sharing).
type tally struct {
	allow, deny int64
	reasons     map[string]int64
	orgs        conformance.OrgTally
}

func newTally() *tally { return &tally{reasons: map[string]int64{}, orgs: conformance.OrgTally{}} }

// add counts the answers to one request whose items were about orgs.
func (t *tally) add(answers []answer, orgs []string) {
	for i, a := range answers {
		org := ""
		if i < len(orgs) {
			org = orgs[i]
		}
		oc := t.orgs[org]
		oc.Answers++
		if a.Decision {
			t.allow++
		} else {
			t.deny++
			t.reasons[string(a.Context.Reason)]++
			if a.Context.Reason == conformance.ReasonUnknownOrg {
				oc.UnknownOrg++
			}
		}
		t.orgs[org] = oc
	}
}

func (t *tally) merge(u *tally) {
	t.allow += u.allow
	t.deny += u.deny
	for k, v := range u.reasons {
		t.reasons[k] += v
	}
	t.orgs.Merge(u.orgs)
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

// answer is the part of a decision the breakdown counts.
type answer struct {
	Decision bool `json:"decision"`
	Context  struct {
		Reason reason `json:"reason"`
	} `json:"context"`
}

// reason is context.reason: a string from Verdict's policies, but an
// extension policy may put any JSON there, which must not fail the answer.
type reason string

func (r *reason) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		*r = reason(s)
	} else {
		*r = reason(b)
	}
	return nil
}

// send posts one request and returns its answers: one for a single
// evaluation (AuthZEN, or OPA's {"result": …}), one per item of a batch.
func send(ctx context.Context, cl *client.Client, path string, body []byte, api string) ([]answer, error) {
	var b []byte
	if err := cl.Post(ctx, path, body, &b); err != nil {
		return nil, err
	}
	// decision is a pointer: a body without one is not a decision.
	type maybe struct {
		Decision *bool `json:"decision"`
		Context  struct {
			Reason reason `json:"reason"`
		} `json:"context"`
	}
	var out struct {
		maybe
		Evaluations []answer `json:"evaluations"`
		Result      *maybe   `json:"result"`
	}
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("the answer is not JSON: %.200s", b)
	}
	one := func(m maybe) []answer {
		a := answer{Decision: *m.Decision}
		a.Context.Reason = m.Context.Reason
		return []answer{a}
	}
	switch {
	case out.Evaluations != nil:
		return out.Evaluations, nil
	case api == "opa" && out.Result != nil && out.Result.Decision != nil:
		return one(*out.Result), nil
	case out.Decision != nil:
		return one(out.maybe), nil
	}
	// An OPA path that names nothing answers 200 with {}: not a decision.
	return nil, fmt.Errorf("the answer holds no decision: %.200s", b)
}

// load is the requests of a run.
type load struct {
	bodies     [][]byte
	orgs       [][]string // per body, the org of each of its evaluations
	path       string
	corpusOrgs []string // see Result.CorpusOrgs
}

// requests builds the request bodies: every evaluation of the corpora, as
// single requests or grouped into batches.
func requests(c Config) (load, error) {
	var evals []json.RawMessage
	l := load{corpusOrgs: []string{""}}
	for _, f := range c.Corpora {
		b, err := os.ReadFile(f)
		if err != nil {
			return load{}, err
		}
		if strings.HasSuffix(f, ".jsonl") {
			lines, err := jsonLines(f, b)
			if err != nil {
				return load{}, err
			}
			evals = append(evals, lines...)
			l.corpusOrgs = nil
			continue
		}
		corpus, err := orgdoc.DecodeCorpus(b)
		if err != nil {
			return load{}, fmt.Errorf("%s: %w", f, err)
		}
		for _, e := range corpus.Evaluations {
			evals = append(evals, e.Request)
		}
		if l.corpusOrgs != nil {
			for i := range corpus.Orgs {
				l.corpusOrgs = append(l.corpusOrgs, corpus.Orgs[i].Org)
			}
		}
	}
	if len(evals) == 0 {
		return load{}, fmt.Errorf("the corpora hold no evaluations")
	}
	orgOf := make([]string, len(evals))
	for i, e := range evals {
		orgOf[i] = conformance.RequestOrg(e)
	}
	if c.API == "opa" {
		for i, e := range evals {
			l.bodies = append(l.bodies, append(append([]byte(`{"input":`), e...), '}'))
			l.orgs = append(l.orgs, orgOf[i:i+1])
		}
		l.path = "/v1/data/" + strings.Trim(c.OPAPath, "/")
		return l, nil
	}
	if c.Batch <= 1 {
		for i, e := range evals {
			l.bodies = append(l.bodies, e)
			l.orgs = append(l.orgs, orgOf[i:i+1])
		}
		l.path = "/access/v1/evaluation"
		return l, nil
	}
	// Batches are disjoint runs of the requests (wrapping at the end), so a
	// batch never repeats the items of the one before it.
	for i := range max(len(evals)/c.Batch, 1) {
		items := make([]json.RawMessage, c.Batch)
		orgs := make([]string, c.Batch)
		for j := range c.Batch {
			k := (i*c.Batch + j) % len(evals)
			items[j], orgs[j] = evals[k], orgOf[k]
		}
		b, err := json.Marshal(map[string]any{"evaluations": items})
		if err != nil {
			return load{}, err
		}
		l.bodies = append(l.bodies, b)
		l.orgs = append(l.orgs, orgs)
	}
	l.path = "/access/v1/evaluations"
	return l, nil
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

package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"reflect"
	"sync"
	"time"
)

// Agreement is what the three servers answered to the same requests of one
// mix: Verdict's decision is the reference.
type Agreement struct {
	Checked int `json:"checked"`
	// The hand-written policy's boolean differs from Verdict's: a bug in it,
	// unless Verdict is wrong.
	HandDecision int `json:"handwritten_decision_disagreements"`
	// Stock OPA on Verdict's bundle: a different boolean, or the same
	// boolean with another context (reasons, build served).
	BundleDecision int      `json:"bundle_decision_disagreements"`
	BundleContext  int      `json:"bundle_context_disagreements"`
	Examples       []string `json:"examples,omitempty"`
}

// answer is one server's decision: its boolean and context.
type answer struct {
	decision bool
	context  any
	err      error
}

// checkAgreement sends lines [start, start+n) of file to the three servers
// (a few at a time, nothing else loading them) and compares the answers.
func checkAgreement(ctx context.Context, file string, start, n int, verdict, bundle, hand *target) (Agreement, error) {
	lines, err := readLines(file, start, n)
	if err != nil {
		return Agreement{}, err
	}
	client := &http.Client{Timeout: 30 * time.Second}
	var mu sync.Mutex
	var a Agreement
	note := func(format string, args ...any) {
		if len(a.Examples) < 10 {
			a.Examples = append(a.Examples, fmt.Sprintf(format, args...))
		}
	}
	work := make(chan []byte)
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for line := range work {
				v, b, h := verdict.ask(ctx, client, line), bundle.ask(ctx, client, line), hand.ask(ctx, client, line)
				mu.Lock()
				a.Checked++
				switch {
				case v.err != nil:
					a.HandDecision++
					a.BundleDecision++
					note("verdict failed (%v): %s", v.err, line)
				default:
					if h.err != nil || h.decision != v.decision {
						a.HandDecision++
						note("hand-written %v (%v), verdict %v: %s", h.decision, h.err, v.decision, line)
					}
					if b.err != nil || b.decision != v.decision {
						a.BundleDecision++
						note("OPA bundle %v (%v), verdict %v: %s", b.decision, b.err, v.decision, line)
					} else if !reflect.DeepEqual(b.context, v.context) {
						a.BundleContext++
						note("OPA bundle context %v, verdict %v: %s", b.context, v.context, line)
					}
				}
				mu.Unlock()
			}
		}()
	}
	for _, l := range lines {
		select {
		case work <- l:
		case <-ctx.Done():
		}
	}
	close(work)
	wg.Wait()
	return a, ctx.Err()
}

// ask sends one request and reads the decision: AuthZEN answers it as is,
// OPA's data API under "result".
func (t *target) ask(ctx context.Context, client *http.Client, line []byte) answer {
	body := line
	if t.api == "opa" {
		body = append(append([]byte(`{"input":`), line...), '}')
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.url+t.path, bytes.NewReader(body))
	if err != nil {
		return answer{err: err}
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return answer{err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return answer{err: err}
	}
	if resp.StatusCode != http.StatusOK {
		return answer{err: fmt.Errorf("HTTP %d: %.200s", resp.StatusCode, b)}
	}
	var d struct {
		Decision *bool          `json:"decision"`
		Context  map[string]any `json:"context"`
		Result   *struct {
			Decision *bool          `json:"decision"`
			Context  map[string]any `json:"context"`
		} `json:"result"`
	}
	if err := json.Unmarshal(b, &d); err != nil {
		return answer{err: fmt.Errorf("%v: %.200s", err, b)}
	}
	if t.api == "opa" {
		if d.Result == nil || d.Result.Decision == nil {
			return answer{err: fmt.Errorf("no decision in %.200s", b)}
		}
		d.Decision, d.Context = d.Result.Decision, d.Result.Context
	}
	if d.Decision == nil {
		return answer{err: fmt.Errorf("no decision in %.200s", b)}
	}
	// An empty context is written {} by OPA and left out by Verdict.
	if d.Context == nil {
		d.Context = map[string]any{}
	}
	return answer{decision: *d.Decision, context: d.Context}
}

// readLines returns lines [start, start+n) of a JSON lines file.
func readLines(path string, start, n int) ([][]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var out [][]byte
	for i := 0; sc.Scan() && len(out) < n; i++ {
		if i >= start {
			out = append(out, append([]byte(nil), sc.Bytes()...))
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s has no line %d", path, start)
	}
	return out, nil
}

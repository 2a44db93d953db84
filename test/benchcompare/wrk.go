package main

import (
	"bufio"
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// The load of the throughput runs is wrk's (a small C program, far lighter
// than the servers it loads), fed by replay.lua with lines of a request file.
//
//go:embed wrk/replay.lua
var replayLua []byte

// wrkLoad is one closed-loop wrk run.
type wrkLoad struct {
	url, path, api string // base URL, request path, "opa" or "authzen"
	file           string
	start, count   int // the part of file sent: lines [start, start+count)
	threads, conns int
	duration       time.Duration
}

// wrkResult is what a run measured (replay.lua's done()).
type wrkResult struct {
	Requests   int64 `json:"requests"`
	DurationUS int64 `json:"duration_us"`
	Connect    int64 `json:"connect"`
	Read       int64 `json:"read"`
	Write      int64 `json:"write"`
	Status     int64 `json:"status"` // answers other than 2xx/3xx
	Timeout    int64 `json:"timeout"`
	Repeated   int64 `json:"repeated"` // requests sent a second time (the part ran out)
	P50US      int64 `json:"p50_us"`   // closed-loop latencies, for the log only
	P99US      int64 `json:"p99_us"`
}

func (r wrkResult) perSec() float64 {
	if r.DurationUS == 0 {
		return 0
	}
	return float64(r.Requests) / (float64(r.DurationUS) / 1e6)
}

func (r wrkResult) errors() int64 { return r.Connect + r.Read + r.Write + r.Status + r.Timeout }

func (r wrkResult) String() string {
	return fmt.Sprintf("%d requests in %.1fs (%.0f/s), errors %d (connect %d, read %d, write %d, status %d, timeout %d), repeated %d, closed-loop p50 %.2f ms p99 %.2f ms",
		r.Requests, float64(r.DurationUS)/1e6, r.perSec(), r.errors(), r.Connect, r.Read, r.Write, r.Status, r.Timeout, r.Repeated,
		float64(r.P50US)/1000, float64(r.P99US)/1000)
}

// runWrk runs wrk once; the script is written into work.
func runWrk(ctx context.Context, work string, l wrkLoad) (wrkResult, error) {
	script := filepath.Join(work, "replay.lua")
	if err := os.WriteFile(script, replayLua, 0o644); err != nil {
		return wrkResult{}, err
	}
	threads := max(min(l.threads, l.conns), 1)
	args := []string{"-t", strconv.Itoa(threads), "-c", strconv.Itoa(l.conns),
		"-d", fmt.Sprintf("%ds", max(int(l.duration.Round(time.Second).Seconds()), 1)), "--timeout", "10s",
		"-s", script, l.url, "--", l.file, strconv.Itoa(l.start), strconv.Itoa(l.count), l.api, l.path, strconv.Itoa(threads)}
	out, err := exec.CommandContext(ctx, "wrk", args...).CombinedOutput()
	if err != nil {
		return wrkResult{}, fmt.Errorf("wrk %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "WRKRESULT "); ok {
			var r wrkResult
			if err := json.Unmarshal([]byte(rest), &r); err != nil {
				return r, fmt.Errorf("wrk's result %q: %v", rest, err)
			}
			return r, nil
		}
	}
	return wrkResult{}, fmt.Errorf("wrk printed no result:\n%s", out)
}

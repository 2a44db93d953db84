package main

import (
	"bytes"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func sample() Results {
	size := func(users int, opa, verdict, rss float64) Size {
		return Size{Users: users,
			OPA:      Server{Name: "stock OPA", PeakRSSMiB: 100 * float64(users) / 1e4, FirstAnswerSeconds: 2, Mix: map[string]Mix{"sessions": {DecisionsPerSec: opa, P99: 30}}},
			Verdict:  Server{Name: "verdict serve", PeakRSSMiB: rss, FirstAnswerSeconds: 0.1, Mix: map[string]Mix{"sessions": {DecisionsPerSec: verdict, P99: 4}}},
			Batch100: &Latency{P50: 1.5, P99: 3}}
	}
	return Results{Sizes: []Size{size(10000, 3000, 7000, 200), size(1000000, 1500, 6000, 300)}}
}

// The targets are judged on the largest size, against the bounds.
func TestTargets(t *testing.T) {
	got := strings.Join(targets(sample()), "\n")
	for _, want := range []string{
		"MET    sessions mix: throughput 6000/s = 4.00x",
		"MISSED sessions mix: 14.3% throughput lost from 10000 to 1000000 users",
		"MISSED peak RSS of verdict serve 300 MiB",
		"MET    first answer 0.100s",
		"MET    batch of 100 evaluations: p50 1.50 ms",
		"MET    no failed requests in any run",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("targets lack %q:\n%s", want, got)
		}
	}
}

// Failed requests are a missed target, not a fast run.
func TestErrorsMissTargets(t *testing.T) {
	r := sample()
	r.Sizes[1].Batch100.Errors = 3
	got := strings.Join(targets(r), "\n")
	if !strings.Contains(got, "MISSED no failed requests in any run; 1000000 users, batches of 100: 3 failed requests") || strings.Contains(got, "batch of 100 evaluations: p50") {
		t.Errorf("errors not reported as missed:\n%s", got)
	}
}

func TestPlotIsAPNG(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p.png")
	if err := drawPlot(sample(), path); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("not a PNG: %v", err)
	}
	if img.Bounds().Dx() < 600 {
		t.Errorf("plot is %v wide", img.Bounds().Dx())
	}
	var out bytes.Buffer
	report(&out, sample())
	if !strings.Contains(out.String(), "verdict vs OPA") {
		t.Errorf("report lacks the ratios:\n%s", out.String())
	}
}

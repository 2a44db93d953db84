package main

import (
	"fmt"
	"io"
	"strings"
)

// report prints the table, the ratios and the targets of issue 8.
func report(w io.Writer, r Results) {
	fmt.Fprintf(w, "\nbench-compare  machine: %s  load: %s per run, closed loop of %d in flight; latency at half of stock OPA's throughput\n\n",
		r.Machine, r.Duration, r.Concurrency)
	fmt.Fprintf(w, "%-9s %-9s %-22s %12s %9s %9s %10s %12s\n", "users", "mix", "server", "decisions/s", "p50 ms", "p99 ms", "RSS MiB", "1st answer")
	for _, s := range r.Sizes {
		for _, mix := range mixesOf(s) {
			for _, srv := range []Server{s.OPA, s.Verdict} {
				m := srv.Mix[mix]
				fmt.Fprintf(w, "%-9d %-9s %-22s %12.0f %9.2f %9.2f %10.0f %11.2fs\n",
					s.Users, mix, srv.Name, m.DecisionsPerSec, m.P50, m.P99, srv.PeakRSSMiB, srv.FirstAnswerSeconds)
			}
			o, v := s.OPA.Mix[mix], s.Verdict.Mix[mix]
			fmt.Fprintf(w, "%-9s %-9s %-22s %11.2fx %8.2fx %8.2fx %9.2fx %10.2fx\n", "", "", "verdict vs OPA",
				ratio(v.DecisionsPerSec, o.DecisionsPerSec), ratio(o.P50, v.P50), ratio(o.P99, v.P99),
				ratio(s.OPA.PeakRSSMiB, s.Verdict.PeakRSSMiB), ratio(s.OPA.FirstAnswerSeconds, s.Verdict.FirstAnswerSeconds))
		}
		if s.Batch100 != nil {
			fmt.Fprintf(w, "%-9d %-9s %-22s  batch of 100: p50 %.2f ms  p99 %.2f ms\n", s.Users, "", "verdict serve", s.Batch100.P50, s.Batch100.P99)
		}
		fmt.Fprintf(w, "%-9d import %.1fs (peak RSS %.0f MiB), Redis %.0f bytes/user, OPA bundle %d bytes\n\n",
			s.Users, s.ImportSeconds, s.ImportPeakRSSMiB, s.RedisBytesPer, s.BundleBytes)
	}
	fmt.Fprintln(w, "ratios: throughput verdict/OPA; latency, RSS and first answer OPA/verdict (above 1: verdict better)")
	for _, t := range targets(r) {
		fmt.Fprintln(w, t)
	}
}

func mixesOf(s Size) []string {
	var out []string
	for _, m := range []string{"sessions", "uniform"} {
		if _, ok := s.Verdict.Mix[m]; ok {
			out = append(out, m)
		}
	}
	return out
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

// targets checks the targets at the largest size measured.
func targets(r Results) []string {
	if len(r.Sizes) == 0 {
		return nil
	}
	small, big := r.Sizes[0], r.Sizes[len(r.Sizes)-1]
	var out []string
	check := func(ok bool, format string, a ...any) {
		mark := "MET   "
		if !ok {
			mark = "MISSED"
		}
		out = append(out, fmt.Sprintf("  %s %s", mark, fmt.Sprintf(format, a...)))
	}
	out = append(out, fmt.Sprintf("targets at %d users:", big.Users))
	// A run with failed requests measured nothing trustworthy.
	var failed []string
	for _, sz := range r.Sizes {
		for _, srv := range []Server{sz.OPA, sz.Verdict} {
			for mix, m := range srv.Mix {
				if m.Errors > 0 {
					failed = append(failed, fmt.Sprintf("%d users, %s mix, %s: %d failed requests", sz.Users, mix, srv.Name, m.Errors))
				}
			}
		}
		if sz.Batch100 != nil && sz.Batch100.Errors > 0 {
			failed = append(failed, fmt.Sprintf("%d users, batches of 100: %d failed requests", sz.Users, sz.Batch100.Errors))
		}
	}
	check(len(failed) == 0, "no failed requests in any run%s", strings.Join(append([]string{""}, failed...), "; "))
	for _, mix := range mixesOf(big) {
		o, v := big.OPA.Mix[mix], big.Verdict.Mix[mix]
		x := ratio(v.DecisionsPerSec, o.DecisionsPerSec)
		check(x >= 2, "%s mix: throughput %.0f/s = %.2fx stock OPA's %.0f/s (target >= 2x)", mix, v.DecisionsPerSec, x, o.DecisionsPerSec)
		check(v.P99 <= 5, "%s mix: p99 %.2f ms at %.0f/s (target <= 5 ms)", mix, v.P99, v.Rate)
		if len(r.Sizes) > 1 {
			lost := 1 - ratio(v.DecisionsPerSec, small.Verdict.Mix[mix].DecisionsPerSec)
			check(lost < 0.10, "%s mix: %.1f%% throughput lost from %d to %d users (target < 10%%; negative: gained)", mix, 100*lost, small.Users, big.Users)
		}
	}
	check(big.Verdict.PeakRSSMiB <= 256, "peak RSS of verdict serve %.0f MiB (target <= 256 MiB)", big.Verdict.PeakRSSMiB)
	worst := 0.0
	for _, s := range r.Sizes {
		worst = max(worst, s.Verdict.FirstAnswerSeconds)
	}
	check(worst <= 1, "first answer %.3fs after start at worst (target <= 1 s whatever the size)", worst)
	if big.Batch100 != nil && big.Batch100.Errors == 0 {
		check(big.Batch100.P50 <= 2, "batch of 100 evaluations: p50 %.2f ms, p99 %.2f ms (target <= 2 ms)", big.Batch100.P50, big.Batch100.P99)
	}
	return out
}

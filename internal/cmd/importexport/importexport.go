// Package importexport is `verdict import FILE --redis-url URL` and
// `verdict export ORG --redis-url URL`: whole organizations into and out of
// Redis, the same atomic replace as PUT /admin/v1/orgs/{org}. An org
// document is imported streamed (store.ImportOrg), in memory that does not
// grow with it.
package importexport

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"github.com/verdict-pdp/verdict/internal/cmd/cliflag"
	"github.com/verdict-pdp/verdict/internal/orgdoc"
	"github.com/verdict-pdp/verdict/internal/store"
	"github.com/verdict-pdp/verdict/internal/verr"
)

// Import runs `verdict import`.
func Import(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("import", flag.ContinueOnError)
	fs.SetOutput(stderr)
	url := fs.String("redis-url", os.Getenv("VERDICT_REDIS_URL"), "Redis URL (env VERDICT_REDIS_URL)")
	actor := fs.String("actor", "verdict import", "who imports, for the audit trail")
	files, err := cliflag.Parse(fs, args)
	if err != nil || len(files) == 0 {
		fmt.Fprintln(stderr, "usage: verdict import FILE... --redis-url URL  (an org document or a corpus with orgs[])")
		return 2
	}
	st, err := store.Open(store.Config{URL: *url})
	if err != nil {
		fmt.Fprintf(stderr, "verdict import: %v\n", err)
		return 2
	}
	defer st.Close()
	if os.Getenv("GOGC") == "" {
		// A streamed import keeps little alive: mostly the user ids and
		// usernames seen, in pointer-free buffers the collector does not
		// scan, so collecting more often is cheap, and it keeps the garbage
		// of one element after another from doubling the process's size
		// (at 1M users, peak RSS ~120 MB instead of ~140 MB).
		debug.SetGCPercent(50)
	}
	for _, f := range files {
		if code := importFile(ctx, st, f, store.Actor{Subject: *actor}, stdout, stderr); code != 0 {
			return code
		}
	}
	return 0
}

// importFile imports one file: an org document is streamed (memory does not
// grow with it; the bar shows the bytes read), a corpus's orgs are decoded
// whole and imported one by one (corpora are test fixtures, small).
func importFile(ctx context.Context, st *store.Store, path string, actor store.Actor, stdout, stderr io.Writer) int {
	f, err := os.Open(path)
	if err != nil {
		fmt.Fprintf(stderr, "verdict import: %v\n", err)
		return 2
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		fmt.Fprintf(stderr, "verdict import: %v\n", err)
		return 2
	}
	doc, err := orgdoc.OpenStream(f, fi.Size())
	if err != nil {
		fmt.Fprintf(stderr, "verdict import: %s: %v\n", path, err)
		return 2
	}
	if doc.IsCorpus() {
		return importCorpus(ctx, st, path, actor, stdout, stderr)
	}
	start := time.Now()
	label := doc.Org()
	if label == "" {
		label = path
	}
	bar := newBar(stderr, label)
	stats, err := st.ImportOrg(ctx, doc, -1, actor, bar.bytes)
	bar.done()
	if err != nil {
		switch verr.CodeOf(err) {
		case verr.Invalid, verr.InvalidInput:
			fmt.Fprintf(stderr, "verdict import: %s: %v\n", path, err)
			return 2
		}
		fmt.Fprintf(stderr, "verdict import: %s: %v\n", label, err)
		return 1
	}
	fmt.Fprintf(stdout, "imported org %s: revision %d, %d users, %d groups, %d projects in %s\n",
		stats.Org, stats.Revision, stats.Users, stats.Groups, stats.Projects, time.Since(start).Round(time.Millisecond))
	return 0
}

// importCorpus imports the orgs of a decision corpus.
func importCorpus(ctx context.Context, st *store.Store, path string, actor store.Actor, stdout, stderr io.Writer) int {
	b, err := os.ReadFile(path)
	if err != nil {
		fmt.Fprintf(stderr, "verdict import: %v\n", err)
		return 2
	}
	c, err := orgdoc.DecodeCorpus(b)
	if err != nil {
		fmt.Fprintf(stderr, "verdict import: %s: %v\n", path, err)
		return 2
	}
	for i := range c.Orgs {
		o := &c.Orgs[i]
		start := time.Now()
		bar := newBar(stderr, o.Org)
		rev, err := st.PutOrgProgress(ctx, o, -1, actor, func(done, total int) { bar.update(int64(done), int64(total), false) })
		bar.done()
		if err != nil {
			fmt.Fprintf(stderr, "verdict import: %s: %v\n", o.Org, err)
			return 1
		}
		fmt.Fprintf(stdout, "imported org %s: revision %d, %d users, %d groups, %d projects in %s\n",
			o.Org, rev, len(o.Users), len(o.Groups), len(o.Projects), time.Since(start).Round(time.Millisecond))
	}
	return 0
}

// Export runs `verdict export`.
func Export(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("export", flag.ContinueOnError)
	fs.SetOutput(stderr)
	url := fs.String("redis-url", os.Getenv("VERDICT_REDIS_URL"), "Redis URL (env VERDICT_REDIS_URL)")
	out := fs.String("out", "-", "output file (- for stdout)")
	orgs, err := cliflag.Parse(fs, args)
	if err != nil || len(orgs) != 1 {
		fmt.Fprintln(stderr, "usage: verdict export ORG --redis-url URL [--out FILE]")
		return 2
	}
	// An export reads whole hashes (a million users in one reply): give
	// Redis more than the default 3 s to send them.
	st, err := store.Open(store.Config{URL: *url, ReadTimeout: 2 * time.Minute})
	if err != nil {
		fmt.Fprintf(stderr, "verdict export: %v\n", err)
		return 2
	}
	defer st.Close()
	o, _, err := st.GetOrg(ctx, orgs[0])
	if err != nil {
		fmt.Fprintf(stderr, "verdict export: %v\n", err)
		return 1
	}
	b, _ := json.MarshalIndent(o, "", "  ")
	b = append(b, '\n')
	if *out == "-" {
		_, _ = stdout.Write(b)
		return 0
	}
	if err := os.WriteFile(*out, b, 0o644); err != nil {
		fmt.Fprintf(stderr, "verdict export: %v\n", err)
		return 1
	}
	return 0
}

// bar is a one-line progress bar on a terminal-ish writer.
type bar struct {
	w     io.Writer
	label string
	last  time.Time
}

func newBar(w io.Writer, label string) *bar { return &bar{w: w, label: label} }

// bytes shows done of total bytes.
func (b *bar) bytes(done, total int64) { b.update(done, total, true) }

func (b *bar) update(done, total int64, bytes bool) {
	if time.Since(b.last) < 100*time.Millisecond && done < total {
		return
	}
	b.last = time.Now()
	width := int64(30)
	filled := int64(0)
	if total > 0 {
		filled = min(done*width/total, width)
	}
	var buf strings.Builder
	fmt.Fprintf(&buf, "\r%s [%s%s] ", b.label, strings.Repeat("#", int(filled)), strings.Repeat(".", int(width-filled)))
	if bytes {
		fmt.Fprintf(&buf, "%.1f/%.1f MB", float64(done)/1e6, float64(total)/1e6)
	} else {
		fmt.Fprintf(&buf, "%d/%d", done, total)
	}
	_, _ = io.WriteString(b.w, buf.String())
}

func (b *bar) done() { fmt.Fprintln(b.w) }

// Package importexport is `verdict import FILE --redis-url URL` and
// `verdict export ORG --redis-url URL`: whole organizations into and out of
// Redis, the same atomic replace as PUT /admin/v1/orgs/{org}.
package importexport

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"github.com/verdict-pdp/verdict/internal/cmd/cliflag"
	"io"
	"os"
	"strings"
	"time"

	"github.com/verdict-pdp/verdict/internal/orgdoc"
	"github.com/verdict-pdp/verdict/internal/store"
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
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			fmt.Fprintf(stderr, "verdict import: %v\n", err)
			return 2
		}
		orgs, err := decode(b)
		if err != nil {
			fmt.Fprintf(stderr, "verdict import: %s: %v\n", f, err)
			return 2
		}
		for i := range orgs {
			start := time.Now()
			bar := newBar(stderr, orgs[i].Org)
			rev, err := st.PutOrgProgress(ctx, &orgs[i], -1, store.Actor{Subject: *actor}, bar.update)
			bar.done()
			if err != nil {
				fmt.Fprintf(stderr, "verdict import: %s: %v\n", orgs[i].Org, err)
				return 1
			}
			fmt.Fprintf(stdout, "imported org %s: revision %d, %d users, %d groups, %d projects in %s\n",
				orgs[i].Org, rev, len(orgs[i].Users), len(orgs[i].Groups), len(orgs[i].Projects), time.Since(start).Round(time.Millisecond))
		}
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
	st, err := store.Open(store.Config{URL: *url})
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

// decode reads an org document, or a corpus's orgs.
func decode(b []byte) ([]orgdoc.Org, error) {
	var probe map[string]json.RawMessage
	_ = json.Unmarshal(b, &probe)
	if _, ok := probe["orgs"]; ok {
		c, err := orgdoc.DecodeCorpus(b)
		if err != nil {
			return nil, err
		}
		return c.Orgs, nil
	}
	o, err := orgdoc.DecodeOrg(b)
	if err != nil {
		return nil, err
	}
	return []orgdoc.Org{*o}, nil
}

// bar is a one-line progress bar on a terminal-ish writer.
type bar struct {
	w     io.Writer
	label string
	last  time.Time
}

func newBar(w io.Writer, label string) *bar { return &bar{w: w, label: label} }

func (b *bar) update(done, total int) {
	if time.Since(b.last) < 100*time.Millisecond && done < total {
		return
	}
	b.last = time.Now()
	width := 30
	filled := 0
	if total > 0 {
		filled = done * width / total
	}
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "\r%s [%s%s] %d/%d", b.label, strings.Repeat("#", filled), strings.Repeat(".", width-filled), done, total)
	_, _ = b.w.Write(buf.Bytes())
}

func (b *bar) done() { fmt.Fprintln(b.w) }

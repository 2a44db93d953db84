// Package checklist is `verdict checklist --org O [--env E]`: the
// post-upgrade checklist of an org (docs/review.md) as findings, each
// naming the record at fault (JSON path in the org document, and a name)
// and the fix; read from Redis, or from an org document with --from.
package checklist

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/verdict-pdp/verdict/internal/cmd/cliflag"
	"github.com/verdict-pdp/verdict/internal/review"
	"github.com/verdict-pdp/verdict/internal/store"
)

// Run runs the command: exit 0 with the findings printed, 2 on a usage or
// input error, 1 when the org cannot be read.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c := cliflag.New("checklist", "--org ORG [--env ENV] (--redis-url URL | --from FILE) [flags]",
		`Prints the post-upgrade checklist of an org (docs/review.md) as findings: UI flows still on the
default User role, deprecated role overrides, environments without an active policy or shares,
empty groups, shares of roles outside the active build, legacy grants in use, migrated users
never invited. Each names its record (JSON path in the org document) and the fix. --env keeps
other environments' findings out. Exits 0 with the findings, 1 when the org cannot be read, 2 on
a usage or input error.`,
		"verdict checklist --org acme --redis-url redis://127.0.0.1:6379",
		"verdict checklist --org acme --env prod --format csv --from acme.json")
	org := c.String("org", "", "the org `ID`")
	env := c.String("env", "", "only this environment's findings (and the org-wide ones)")
	url := c.String("redis-url", "", "Redis `URL`")
	c.Env("redis-url", "VERDICT_REDIS_URL")
	from := c.String("from", "", "read the org from this org document (or corpus) `FILE` instead of Redis")
	format := c.String("format", "text", "text, json or csv")
	rest, code, ok := c.Parse(args, stdout, stderr)
	if !ok {
		return code
	}
	switch {
	case *org == "":
		return c.Fail(stderr, "--org is required")
	case len(rest) > 0:
		return c.Fail(stderr, "unexpected argument %q", rest[0])
	case *format != "text" && *format != "json" && *format != "csv":
		return c.Fail(stderr, "--format must be text, json or csv")
	}
	in, code := load(ctx, *org, *url, *from, stderr)
	if in == nil {
		return code
	}
	cl := review.Check(in, *env)
	switch *format {
	case "json":
		b, _ := json.MarshalIndent(cl, "", "  ")
		fmt.Fprintln(stdout, string(b))
	case "csv":
		if err := cl.WriteCSV(stdout); err != nil {
			fmt.Fprintf(stderr, "verdict checklist: %v\n", err)
			return 1
		}
	default:
		for _, f := range cl.Findings {
			fmt.Fprintf(stdout, "%s  %s  (%s)\n  %s\n  fix: %s\n", f.Code, f.ID, f.Path, f.Message, f.Fix)
		}
		fmt.Fprintf(stdout, "%d findings in org %s (revision %d)\n", len(cl.Findings), cl.Org, cl.Revision)
	}
	return 0
}

// load reads the org from a file or from Redis; a nil Input comes with the
// exit code.
func load(ctx context.Context, org, url, from string, stderr io.Writer) (*review.Input, int) {
	if from != "" {
		data, err := os.ReadFile(from)
		if err != nil {
			fmt.Fprintf(stderr, "verdict checklist: %v\n", err)
			return nil, 2
		}
		in, err := review.FromFile(data, org)
		if err != nil {
			fmt.Fprintf(stderr, "verdict checklist: %s: %v\n", from, err)
			return nil, 2
		}
		return in, 0
	}
	st, err := store.Open(store.Config{URL: url})
	if err != nil {
		fmt.Fprintf(stderr, "verdict checklist: %v\n", err)
		return nil, 2
	}
	defer st.Close()
	in, err := review.Load(ctx, st, org)
	if err != nil {
		fmt.Fprintf(stderr, "verdict checklist: %v\n", err)
		return nil, 1
	}
	return in, 0
}

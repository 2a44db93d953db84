// Package reviewcmd is `verdict review --org O [--project P] [--env E]`:
// an org's access review (docs/review.md) — who can do what, decided by
// the engine on one snapshot of the org; users inactive for N days who
// still hold access; org_admin, workspace_admin and project_owner without a
// recorded justification; disabled project owners; access that comes only
// from legacy grants — in JSON or CSV, read from Redis or from a file.
package reviewcmd

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/verdict-pdp/verdict/internal/cmd/cliflag"
	"github.com/verdict-pdp/verdict/internal/engine"
	"github.com/verdict-pdp/verdict/internal/policyload"
	"github.com/verdict-pdp/verdict/internal/review"
	"github.com/verdict-pdp/verdict/internal/store"
	"github.com/verdict-pdp/verdict/internal/verr"
)

// Run runs the command: exit 0 with the review printed, 2 on a usage or
// input error, 1 when the org cannot be read or decided about.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c := cliflag.New("review", "--org ORG [--project P] [--env ENV] (--redis-url URL | --from FILE) [flags]",
		`Prints an org's access review (docs/review.md): who can do what, decided by the engine on one
snapshot of the org; users not seen for --inactive-days who still hold access; org_admin,
workspace_admin and project_owner assignments without a recorded justification; disabled
project owners; access that comes only from legacy grants. JSON or CSV (one table). Exits 0
with the review, 1 when the org cannot be read, 2 on a usage or input error.`,
		"verdict review --org acme --project loans --env prod --redis-url redis://127.0.0.1:6379",
		"verdict review --org acme --format csv --inactive-days 30 --from acme.json > review.csv")
	org := c.String("org", "", "the org `ID`")
	project := c.String("project", "", "only this project")
	env := c.String("env", "", "only this environment")
	days := c.Int("inactive-days", 90, "list users not seen for this many days who still hold access")
	format := c.String("format", "json", "json or csv")
	url := c.String("redis-url", "", "Redis `URL`")
	c.Env("redis-url", "VERDICT_REDIS_URL")
	from := c.String("from", "", "read the org from this org document (or corpus) `FILE` instead of Redis")
	rest, code, ok := c.Parse(args, stdout, stderr)
	if !ok {
		return code
	}
	switch {
	case *org == "":
		return c.Fail(stderr, "--org is required")
	case len(rest) > 0:
		return c.Fail(stderr, "unexpected argument %q", rest[0])
	case *days < 1:
		return c.Fail(stderr, "--inactive-days must be at least 1")
	case *format != "json" && *format != "csv":
		return c.Fail(stderr, "--format must be json or csv")
	}
	fail := func(code int, err error) int {
		fmt.Fprintf(stderr, "verdict review: %v\n", err)
		return code
	}
	var in *review.Input
	if *from != "" {
		data, err := os.ReadFile(*from)
		if err != nil {
			return fail(2, err)
		}
		if in, err = review.FromFile(data, *org); err != nil {
			return fail(2, fmt.Errorf("%s: %w", *from, err))
		}
	} else {
		st, err := store.Open(store.Config{URL: *url})
		if err != nil {
			return fail(2, err)
		}
		defer st.Close()
		if in, err = review.Load(ctx, st, *org); err != nil {
			return fail(1, err)
		}
	}
	set, err := policyload.Load(nil, false)
	if err != nil {
		return fail(2, err)
	}
	eng, err := engine.New(ctx, engine.Config{Modules: set.Modules, Data: set.Data})
	if err != nil {
		return fail(2, err)
	}
	r, err := review.Run(ctx, eng, in, review.Options{Project: *project, Environment: *env, InactiveDays: *days})
	if err != nil {
		if c := verr.CodeOf(err); c == verr.NotFound || c == verr.InvalidInput {
			return fail(2, err)
		}
		return fail(1, err)
	}
	if *format == "csv" {
		if err := r.WriteCSV(stdout); err != nil {
			return fail(1, err)
		}
		return 0
	}
	b, _ := json.MarshalIndent(r, "", "  ")
	fmt.Fprintln(stdout, string(b))
	return 0
}

// Package migratecmd is `verdict migrate --from-51 EXPORT.json`: a 5.1
// runtime export (docs/migration.md) converted to an org document, with the
// report of every change and a replay of the decisions of every user who
// had access; a dry run unless --apply, which imports the document into
// Redis (audited as org.migrated, with the users to invite). It exits 1
// when the replay finds a decision lost or widened with no known cause
// (nothing is applied then) or the import fails, 2 on a usage or input
// error.
package migratecmd

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/verdict-pdp/verdict/internal/cmd/cliflag"
	"github.com/verdict-pdp/verdict/internal/engine"
	"github.com/verdict-pdp/verdict/internal/migrate"
	"github.com/verdict-pdp/verdict/internal/policyload"
	"github.com/verdict-pdp/verdict/internal/store"
	"github.com/verdict-pdp/verdict/internal/verr"
)

// Run runs the command.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c := cliflag.New("migrate", "--from-51 EXPORT.json [--apply --redis-url URL] [flags]",
		`Upgrades an org from a 5.1 runtime export (docs/migration.md): users, roles and groups move
over, direct role assignments become legacy grants, group roles become shares per environment,
UI flows without a role list get the User role, role overrides are kept as deprecated with a
suggested group override. Prints the report of every change and a replay of the decisions of
every user who had access (5.1 rules before, the engine after). A dry run unless --apply, which
imports the document into Redis (audited as org.migrated; an existing org only with --replace).
Exits 1 when a decision would change with no known cause (nothing is applied) or the import
fails, 2 on a usage or input error.`,
		"verdict migrate --from-51 acme-5.1.json",
		"verdict migrate --from-51 acme-5.1.json --out acme.json --format json",
		"verdict migrate --from-51 acme-5.1.json --apply --redis-url redis://127.0.0.1:6379")
	from := c.String("from-51", "", "the 5.1 runtime export `FILE` (docs/migration.md)")
	out := c.String("out", "", "write the migrated org document to `FILE`")
	format := c.String("format", "text", "report format: text or json")
	apply := c.Bool("apply", false, "import the migrated document into Redis (default: dry run)")
	replace := c.Bool("replace", false, "with --apply: replace the org if it exists")
	url := c.String("redis-url", "", "Redis `URL` for --apply")
	c.Env("redis-url", "VERDICT_REDIS_URL")
	actor := c.String("actor", "verdict migrate", "who migrates, for the audit trail")
	why := c.String("justification", "", "why, for the audit trail")
	rest, code, ok := c.Parse(args, stdout, stderr)
	if !ok {
		return code
	}
	switch {
	case *from == "":
		return c.Fail(stderr, "--from-51 EXPORT.json is required")
	case len(rest) > 0:
		return c.Fail(stderr, "unexpected argument %q", rest[0])
	case *format != "text" && *format != "json":
		return c.Fail(stderr, "--format must be text or json")
	}
	fail := func(code int, err error) int {
		fmt.Fprintf(stderr, "verdict migrate: %v\n", err)
		return code
	}
	data, err := os.ReadFile(*from)
	if err != nil {
		return fail(2, err)
	}
	e, err := migrate.Decode(data)
	if err != nil {
		return fail(2, fmt.Errorf("%s: %w", *from, err))
	}
	set, err := policyload.Load(nil, false)
	if err != nil {
		return fail(2, err)
	}
	eng, err := engine.New(ctx, engine.Config{Modules: set.Modules, Data: set.Data})
	if err != nil {
		return fail(2, err)
	}
	doc, rep, err := migrate.Plan(ctx, e, eng)
	if err != nil {
		return fail(2, fmt.Errorf("%s: %w", *from, err))
	}
	if *out != "" {
		b, _ := json.MarshalIndent(doc, "", "  ")
		if err := os.WriteFile(*out, append(b, '\n'), 0o644); err != nil {
			return fail(1, err)
		}
	}
	if *format == "json" {
		b, _ := json.MarshalIndent(rep, "", "  ")
		fmt.Fprintln(stdout, string(b))
	} else {
		rep.WriteText(stdout)
	}
	if !rep.Replay.OK() {
		fmt.Fprintf(stderr, "verdict migrate: %d decisions would change with no known cause: nothing applied\n", len(rep.Replay.Unexplained))
		return 1
	}
	if !*apply {
		fmt.Fprintln(stderr, "dry run: nothing written (--apply imports the document)")
		return 0
	}
	st, err := store.Open(store.Config{URL: *url})
	if err != nil {
		return fail(2, err)
	}
	defer st.Close()
	ifRev := int64(-1)
	if *replace {
		if ifRev, err = st.Revision(ctx, doc.Org); err != nil {
			return fail(1, err)
		}
	}
	rev, err := migrate.Apply(ctx, st, doc, rep, ifRev, store.Actor{Subject: *actor, Justification: *why}, time.Now())
	if err != nil {
		if verr.CodeOf(err) == verr.Conflict {
			return fail(1, fmt.Errorf("%w (or pass --replace)", err))
		}
		return fail(1, err)
	}
	fmt.Fprintf(stdout, "applied: org %s at revision %d\n", doc.Org, rev)
	return 0
}

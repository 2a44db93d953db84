// Command verdict is Verdict's one binary: a small dispatcher to one package
// per subcommand. Every subcommand prints its help in one format (usage line,
// description, flags with defaults and environment variables, examples) on
// stdout with -h or --help, and exits 2 with a one-line hint on stderr after
// a bad flag or an unknown command.
package main

import (
	"context"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/verdict-pdp/verdict/internal/cmd/bench"
	"github.com/verdict-pdp/verdict/internal/cmd/bundlecmd"
	"github.com/verdict-pdp/verdict/internal/cmd/check"
	"github.com/verdict-pdp/verdict/internal/cmd/checklist"
	"github.com/verdict-pdp/verdict/internal/cmd/cliflag"
	"github.com/verdict-pdp/verdict/internal/cmd/edgecmd"
	"github.com/verdict-pdp/verdict/internal/cmd/gen"
	"github.com/verdict-pdp/verdict/internal/cmd/healthcheck"
	"github.com/verdict-pdp/verdict/internal/cmd/importexport"
	"github.com/verdict-pdp/verdict/internal/cmd/manifest"
	"github.com/verdict-pdp/verdict/internal/cmd/migratecmd"
	"github.com/verdict-pdp/verdict/internal/cmd/policytest"
	"github.com/verdict-pdp/verdict/internal/cmd/promote"
	"github.com/verdict-pdp/verdict/internal/cmd/reviewcmd"
	"github.com/verdict-pdp/verdict/internal/cmd/serve"
	"github.com/verdict-pdp/verdict/internal/cmd/version"
)

// root returns `verdict` itself. `verdict help [COMMAND...]` and `verdict
// --help` are handled by the group.
func root() *cliflag.Group {
	return &cliflag.Group{
		Doc: `Verdict is a policy decision point: AuthZEN and OPA's data API over Rego policies
evaluated in-process on OPA, facts in Redis, signed bundles for edge PDPs.`,
		Subs: []cliflag.Sub{
			{Name: "serve", Summary: "run the central PDP over HTTP (facts in Redis; --dev: embedded store, demo org)", Run: serve.Run},
			{Name: "edge", Summary: "run an edge PDP on signed bundles, no Redis", Run: edgecmd.Run},
			{Name: "check", Summary: "replay decision corpora in-process or against a PDP (--url)", Run: check.Run},
			{Name: "manifest", Summary: "a user's permission manifest in a solution and environment (--url or --org-file)", Run: manifest.Run},
			{Name: "policy", Summary: "policy tools: verdict policy test", Run: policytest.Run},
			{Name: "import", Summary: "import org documents into Redis (atomic replace, streamed)", Run: importexport.Import},
			{Name: "export", Summary: "export an org from Redis as an org document", Run: importexport.Export},
			{Name: "bundle", Summary: "build, inspect or serve signed OPA bundles; make their key pair", Run: bundlecmd.Run},
			{Name: "migrate", Summary: "upgrade an org from a 5.1 export (dry run unless --apply)", Run: migratecmd.Run},
			{Name: "checklist", Summary: "the post-upgrade checklist of an org, as findings", Run: checklist.Run},
			{Name: "promote", Summary: "copy a project's settings between environments (dry run unless --apply)", Run: promote.Run},
			{Name: "review", Summary: "an org's access review, in JSON or CSV", Run: reviewcmd.Run},
			{Name: "bench", Summary: "load generator for any AuthZEN or OPA server", Run: bench.Run},
			{Name: "gen", Summary: "a deterministic org document (or request mix) at scale", Run: gen.Run},
			{Name: "healthcheck", Summary: "exit 0 when a running PDP is ready (container health checks)", Run: healthcheck.Run},
			{Name: "version", Summary: "print the versions of verdict, OPA and Go", Run: version.Run},
		},
		Examples: []string{
			"verdict serve --dev",
			"verdict check data/demo.json --url http://127.0.0.1:8181",
			"verdict help bundle build",
		},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		switch args[0] {
		case "--version", "-version":
			return version.Run(ctx, nil, stdout, stderr)
		case "help":
			// `verdict help bundle build` = `verdict bundle build --help`.
			if len(args) > 1 {
				return run(ctx, append(args[1:len(args):len(args)], "--help"), stdout, stderr)
			}
		}
	}
	return root().Run(ctx, args, stdout, stderr)
}

// Command verdict is Verdict's one binary: a small dispatcher to one package
// per subcommand.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/verdict-pdp/verdict/internal/cmd/bench"
	"github.com/verdict-pdp/verdict/internal/cmd/bundlecmd"
	"github.com/verdict-pdp/verdict/internal/cmd/check"
	"github.com/verdict-pdp/verdict/internal/cmd/edgecmd"
	"github.com/verdict-pdp/verdict/internal/cmd/gen"
	"github.com/verdict-pdp/verdict/internal/cmd/importexport"
	"github.com/verdict-pdp/verdict/internal/cmd/policytest"
	"github.com/verdict-pdp/verdict/internal/cmd/serve"
)

type command struct {
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) int
}

var commands = map[string]command{
	"serve":  {"run the PDP over HTTP: verdict serve [--dev] [--addr ADDR]", serve.Run},
	"check":  {"replay decision corpora: verdict check FILE... [--url URL]", check.Run},
	"import": {"import org documents into Redis: verdict import FILE... --redis-url URL", importexport.Import},
	"export": {"export an org from Redis: verdict export ORG --redis-url URL [--out FILE]", importexport.Export},
	"bench":  {"load generator: verdict bench --url URL [--batch N] CORPUS.json...", bench.Run},
	"gen":    {"a deterministic org document at scale: verdict gen --users N --seed S [--out FILE]", gen.Run},
	"policy": {"policy tools: verdict policy test [DIR]", policytest.Run},
	"bundle": {"build or inspect an org's signed OPA bundle: verdict bundle build --org ORG (--from FILE | --redis-url URL) --signing-key KEY.pem", bundlecmd.Run},
	"edge":   {"run an edge PDP on signed bundles, no Redis: verdict edge --bundle URL_OR_FILE... --verification-key KEY.pem", edgecmd.Run},
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr)
		return 2
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "verdict: unknown command %q\n", args[0])
		usage(stderr)
		return 2
	}
	return c.run(ctx, args[1:], stdout, stderr)
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: verdict COMMAND [ARGS]\n\ncommands:")
	for _, name := range []string{"serve", "check", "policy", "import", "export", "bundle", "edge", "gen", "bench"} {
		if c, ok := commands[name]; ok {
			fmt.Fprintf(w, "  %-8s %s\n", name, c.summary)
		}
	}
}

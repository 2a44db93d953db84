// Package cliflag is what every subcommand shares about its command line:
// one help format (usage line, description, flags with their defaults and
// environment variables, examples), one parse (flags may follow positional
// arguments; --help exits 0 on stdout; a bad flag exits 2 with a one-line
// hint on stderr), command groups (`verdict bundle build`) and progress
// output that redraws only on a terminal.
//
// A Command is built and used by one goroutine, the command's own; nothing
// here is shared between commands.
package cliflag

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

// Exit codes of every subcommand.
const (
	ExitOK    = 0
	ExitFail  = 1 // the command ran and failed (a failed check, a server error)
	ExitUsage = 2 // bad arguments, flags or input files
)

// Command is one command line: its flags (the embedded FlagSet) and what
// --help prints about it.
type Command struct {
	*flag.FlagSet
	// Name is the command's path after "verdict": "check", "bundle build".
	Name string
	// Args is the synopsis after the name, e.g. "FILE... [--url URL]".
	Args string
	// Doc says what the command does (paragraphs, wrapped by the author).
	Doc string
	// Examples are command lines; lines starting with "#" are comments.
	Examples []string

	env   map[string]string // flag name -> environment variable
	order []string          // flags with an environment variable, in Env order
}

// New returns a command with an empty flag set. The flag set never prints by
// itself: Parse does, in the one format.
func New(name, args, doc string, examples ...string) *Command {
	fs := flag.NewFlagSet("verdict "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return &Command{FlagSet: fs, Name: name, Args: args, Doc: doc, Examples: examples, env: map[string]string{}}
}

// Env names the environment variable that sets flag name when the command
// line does not (flag > environment > default). The help shows it beside the
// flag. The flag must already be defined.
func (c *Command) Env(name, variable string) {
	if c.Lookup(name) == nil {
		panic("cliflag: Env for undefined flag " + name)
	}
	if _, dup := c.env[name]; !dup {
		c.order = append(c.order, name)
	}
	c.env[name] = variable
}

// EnvOf returns the environment variable of flag name, or "".
func (c *Command) EnvOf(name string) string { return c.env[name] }

// Parse parses args, letting flags follow positional arguments (`verdict
// check a.json --url X`), then applies the environment variables of the
// flags the command line did not set. It returns the positional arguments
// and ok. When !ok the caller returns code: ExitOK after -h/--help (the help
// went to stdout), ExitUsage after a bad flag or environment value (a
// one-line error and a hint went to stderr).
func (c *Command) Parse(args []string, stdout, stderr io.Writer) (pos []string, code int, ok bool) {
	pos, err := parseInterspersed(c.FlagSet, args)
	if errors.Is(err, flag.ErrHelp) {
		c.PrintHelp(stdout)
		return nil, ExitOK, false
	}
	if err != nil {
		return nil, c.Fail(stderr, "%s", flagError(err)), false
	}
	set := map[string]bool{}
	c.Visit(func(f *flag.Flag) { set[f.Name] = true })
	for _, name := range c.order {
		v, present := os.LookupEnv(c.env[name])
		if set[name] || !present || v == "" {
			continue
		}
		if err := c.Set(name, v); err != nil {
			return nil, c.Fail(stderr, "%s (for --%s): %v", c.env[name], name, err), false
		}
	}
	return pos, ExitOK, true
}

// flagError words the flag package's errors with the double dash the help
// shows: "unknown flag --x" rather than "flag provided but not defined: -x".
func flagError(err error) string {
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: -"); ok {
		return "unknown flag --" + strings.TrimPrefix(name, "-")
	}
	if name, ok := strings.CutPrefix(msg, "flag needs an argument: -"); ok {
		return "flag --" + strings.TrimPrefix(name, "-") + " needs a value"
	}
	return strings.Replace(msg, " for flag -", " for flag --", 1)
}

// Fail prints "verdict NAME: message" and a hint to run --help on stderr,
// and returns ExitUsage.
func (c *Command) Fail(stderr io.Writer, format string, a ...any) int {
	fmt.Fprintf(stderr, "verdict %s: %s\nRun 'verdict %s --help' for usage.\n", c.Name, fmt.Sprintf(format, a...), c.Name)
	return ExitUsage
}

// parseInterspersed parses args with fs, letting flags follow positional
// arguments, which the flag package alone does not, and returns the
// positional arguments in order. After "--" everything is positional.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		// The flag package stops at a positional argument or after a "--",
		// which it consumes: then the rest is positional.
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// RunFunc is a subcommand: it gets the arguments after its name and returns
// the process's exit code.
type RunFunc func(ctx context.Context, args []string, stdout, stderr io.Writer) int

// Sub is one command of a Group.
type Sub struct {
	Name    string
	Summary string // one line in the group's list
	Run     RunFunc
}

// Group is a command made of subcommands (`verdict bundle`, and `verdict`
// itself).
type Group struct {
	Name     string // "bundle"; "" for the top level
	Doc      string
	Subs     []Sub
	Examples []string
}

// path is the group's command line prefix: "verdict bundle".
func (g *Group) path() string { return strings.TrimSpace("verdict " + g.Name) }

// Run dispatches args to a subcommand. Without one, the group's help goes to
// stderr (exit 2); with -h, --help or help, to stdout (exit 0); an unknown
// subcommand exits 2 with a hint.
func (g *Group) Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		g.PrintHelp(stderr)
		return ExitUsage
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		if args[0] == "help" && len(args) > 1 {
			// `verdict bundle help build` = `verdict bundle build --help`.
			return g.Run(ctx, append(args[1:2:2], "--help"), stdout, stderr)
		}
		g.PrintHelp(stdout)
		return ExitOK
	}
	for _, s := range g.Subs {
		if s.Name == args[0] {
			return s.Run(ctx, args[1:], stdout, stderr)
		}
	}
	what := "command"
	if strings.HasPrefix(args[0], "-") {
		what = "flag"
	}
	fmt.Fprintf(stderr, "%s: unknown %s %q\nRun '%s --help' for the list of commands.\n", g.path(), what, args[0], g.path())
	return ExitUsage
}

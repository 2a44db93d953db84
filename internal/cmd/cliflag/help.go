package cliflag

import (
	"flag"
	"fmt"
	"io"
	"strings"
)

// PrintHelp writes the command's help in the one format every command
// shares:
//
//	Usage: verdict NAME ARGS
//
//	DOC
//
//	Flags:
//	  --name VALUE
//	      usage (default D; env VERDICT_X)
//
//	Examples:
//	  verdict NAME ...
func (c *Command) PrintHelp(w io.Writer) {
	var b strings.Builder
	fmt.Fprintf(&b, "Usage: verdict %s", c.Name)
	if c.Args != "" {
		fmt.Fprintf(&b, " %s", c.Args)
	}
	b.WriteString("\n")
	writeDoc(&b, c.Doc)
	n := 0
	c.VisitAll(func(*flag.Flag) { n++ })
	if n > 0 {
		b.WriteString("\nFlags:\n")
		c.VisitAll(func(f *flag.Flag) {
			placeholder, usage := flag.UnquoteUsage(f)
			if placeholder != "" {
				fmt.Fprintf(&b, "  --%s %s\n", f.Name, placeholder)
			} else {
				fmt.Fprintf(&b, "  --%s\n", f.Name)
			}
			var notes []string
			if !zeroDefault(f) {
				notes = append(notes, "default "+f.DefValue)
			}
			if env := c.env[f.Name]; env != "" {
				notes = append(notes, "env "+env)
			}
			if len(notes) > 0 {
				usage += " (" + strings.Join(notes, "; ") + ")"
			}
			fmt.Fprintf(&b, "      %s\n", usage)
		})
	}
	writeExamples(&b, c.Examples)
	_, _ = io.WriteString(w, b.String())
}

// PrintHelp writes the group's help: usage line, description, its commands
// and examples.
func (g *Group) PrintHelp(w io.Writer) {
	var b strings.Builder
	fmt.Fprintf(&b, "Usage: %s COMMAND [ARGS] [flags]\n", g.path())
	writeDoc(&b, g.Doc)
	b.WriteString("\nCommands:\n")
	width := 0
	for _, s := range g.Subs {
		width = max(width, len(s.Name))
	}
	for _, s := range g.Subs {
		fmt.Fprintf(&b, "  %-*s  %s\n", width, s.Name, s.Summary)
	}
	fmt.Fprintf(&b, "\nRun '%s COMMAND --help' for a command's flags and examples.\n", g.path())
	writeExamples(&b, g.Examples)
	_, _ = io.WriteString(w, b.String())
}

func writeDoc(b *strings.Builder, doc string) {
	if doc = strings.TrimSpace(doc); doc != "" {
		fmt.Fprintf(b, "\n%s\n", doc)
	}
}

func writeExamples(b *strings.Builder, examples []string) {
	if len(examples) == 0 {
		return
	}
	b.WriteString("\nExamples:\n")
	for _, e := range examples {
		fmt.Fprintf(b, "  %s\n", e)
	}
}

// zeroDefault reports whether a flag's default is its type's zero value,
// which the help does not show.
func zeroDefault(f *flag.Flag) bool {
	switch f.DefValue {
	case "", "0", "false", "0s", "[]":
		return true
	}
	return false
}

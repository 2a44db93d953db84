package bundlecmd

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/verdict-pdp/verdict/internal/bundle"
	"github.com/verdict-pdp/verdict/internal/cmd/cliflag"
)

// progress shows the build's steps: a bar redrawn in place on a terminal,
// one line per step elsewhere (CI logs). Reading a large org from Redis and
// compressing its data are the long steps; each shows how long the previous
// one took.
type progress struct {
	w     io.Writer
	tty   bool
	start time.Time
	last  time.Time
	drawn bool
}

func newProgress(w io.Writer) *progress {
	now := time.Now()
	return &progress{w: w, tty: cliflag.IsTerminal(w), start: now, last: now}
}

// step reports that a step starts; Build numbers its steps 1..Of, reading
// the org is step 0.
func (p *progress) step(s bundle.Step) {
	n, of := s.N+1, s.Of+1
	took := time.Since(p.last).Round(time.Millisecond)
	p.last = time.Now()
	const width = 20
	filled := (n - 1) * width / of
	line := fmt.Sprintf("bundle [%s%s] %d/%d %-8s %s", strings.Repeat("#", filled), strings.Repeat(".", width-filled), n, of, s.Name, s.Detail)
	if n > 1 {
		line += fmt.Sprintf(" (previous step %s)", took)
	}
	if p.tty {
		fmt.Fprintf(p.w, "\r\033[K%s", line)
		p.drawn = true
		return
	}
	fmt.Fprintln(p.w, line)
}

func (p *progress) done() {
	if p.tty && p.drawn {
		fmt.Fprintf(p.w, "\r\033[Kbundle [%s] done in %s\n", strings.Repeat("#", 20), time.Since(p.start).Round(time.Millisecond))
	}
}

package cliflag

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"golang.org/x/term"
)

// IsTerminal reports whether w is a terminal: progress is redrawn in place
// only there; a file, a pipe or a CI log gets plain lines.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// Progress shows how far a long step is: on a terminal, a bar redrawn in
// place (at most every 100 ms); elsewhere, a plain line at every tenth of
// the way, so that a log gets a few lines and never a carriage return.
type Progress struct {
	w     io.Writer
	tty   bool
	label string
	last  time.Time
	step  int64 // tenths printed so far (plain lines)
	drawn bool
}

// NewProgress returns a progress display for label on w.
func NewProgress(w io.Writer, label string) *Progress {
	return &Progress{w: w, tty: IsTerminal(w), label: label, step: -1}
}

// Bytes shows done of total bytes.
func (p *Progress) Bytes(done, total int64) {
	p.update(done, total, fmt.Sprintf("%.1f/%.1f MB", float64(done)/1e6, float64(total)/1e6))
}

// Count shows done of total items.
func (p *Progress) Count(done, total int64) { p.update(done, total, fmt.Sprintf("%d/%d", done, total)) }

// Line shows a free-form status, e.g. for a run measured in time; tenth is
// which tenth of the way it is at (plain lines are printed once per tenth).
func (p *Progress) Line(tenth int64, status string) {
	if p.tty {
		p.draw(status)
		return
	}
	if tenth > p.step {
		p.step = tenth
		fmt.Fprintf(p.w, "%s %s\n", p.label, status)
	}
}

func (p *Progress) update(done, total int64, amount string) {
	const width = 30
	filled := int64(0)
	if total > 0 {
		filled = min(done*width/total, width)
	}
	if p.tty {
		if time.Since(p.last) < 100*time.Millisecond && done < total {
			return
		}
		p.last = time.Now()
		p.draw(fmt.Sprintf("[%s%s] %s", strings.Repeat("#", int(filled)), strings.Repeat(".", int(width-filled)), amount))
		return
	}
	tenth := int64(0)
	if total > 0 {
		tenth = min(done*10/total, 10)
	}
	if tenth > p.step {
		p.step = tenth
		fmt.Fprintf(p.w, "%s %d%% %s\n", p.label, tenth*10, amount)
	}
}

func (p *Progress) draw(status string) {
	fmt.Fprintf(p.w, "\r\033[K%s %s", p.label, status)
	p.drawn = true
}

// Done ends the display: on a terminal, the bar's line is ended.
func (p *Progress) Done() {
	if p.tty && p.drawn {
		fmt.Fprintln(p.w)
		p.drawn = false
	}
}

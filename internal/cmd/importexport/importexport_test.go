package importexport

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/verdict-pdp/verdict/internal/cmd/gen"
	"github.com/verdict-pdp/verdict/internal/testutil/redistest"
)

// TestImport runs `verdict import` on a generated org document (streamed),
// on the demo corpus (its orgs), and on a broken document.
func TestImport(t *testing.T) {
	srv := redistest.Shared(t)
	if err := srv.Client(t).FlushAll(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	doc := filepath.Join(dir, "gen.json")
	f, err := os.Create(doc)
	if err != nil {
		t.Fatal(err)
	}
	c := gen.Config{Users: 1500, Seed: 3}
	_ = c.Validate()
	if err := gen.Write(f, c); err != nil {
		t.Fatal(err)
	}
	f.Close()

	run := func(args ...string) (int, string, string) {
		var out, errw bytes.Buffer
		code := Import(context.Background(), append(args, "--redis-url", srv.URL()), &out, &errw)
		return code, out.String(), errw.String()
	}
	code, out, errs := run(doc)
	if code != 0 || !regexp.MustCompile(`^imported org gen: revision 1, 1500 users, 7 groups, 20 projects in \S+\n$`).MatchString(out) {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errs)
	}
	// stderr is not a terminal: plain progress lines, never a carriage return.
	if strings.Contains(errs, "\r") || !regexp.MustCompile(`(?m)^gen 100% 0\.\d/0\.\d MB$`).MatchString(errs) {
		t.Fatalf("want plain progress lines ending at 100%%: %q", errs)
	}
	if code, out, _ = run(doc, "../../../data/demo.json"); code != 0 ||
		!strings.Contains(out, "imported org gen: revision 2,") || !strings.Contains(out, "imported org demo: revision 1,") {
		t.Fatalf("exit %d, stdout %q", code, out)
	}

	broken := filepath.Join(dir, "broken.json")
	b, _ := os.ReadFile(doc)
	if err := os.WriteFile(broken, bytes.Replace(b, []byte(`"u42","u43"`), []byte(`"nobody","u43"`), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errs = run(broken)
	if code != 2 || out != "" || !strings.Contains(errs, "verdict import: "+broken+": invalid: groups[0].members[42]: unknown user \"nobody\"") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errs)
	}
}

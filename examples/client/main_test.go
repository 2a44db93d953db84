package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/verdict-pdp/verdict/internal/cmd/serve"
)

// TestAgainstMakeRun runs the service against a PDP configured as `make
// run` configures it (serve --dev), and checks that docs/client.md shows
// this very program.
func TestAgainstMakeRun(t *testing.T) {
	cfg := serve.Config{Dev: true, Addr: "127.0.0.1:0"}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	srv, err := serve.Start(context.Background(), &cfg, slog.New(slog.DiscardHandler), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var out bytes.Buffer
	if err := run(ctx, "http://"+srv.Addr, &out); err != nil {
		t.Fatal(err)
	}
	want := `maria may open mortgage: true (build m2)
tom sees approve: hidden
tom sees comment: disabled
tom reads: WHERE applications.branch IN (E'harbour', E'north')
`
	if out.String() != want {
		t.Errorf("output\n%s\nwant\n%s", out.String(), want)
	}

	src, err := os.ReadFile("main.go")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile("../../docs/client.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(doc), "```go\n"+string(src)+"```\n") {
		t.Error("docs/client.md does not show examples/client/main.go as it is: copy it into the page")
	}
}

// Package deploy holds the deployment files (compose.yaml, the Grafana
// dashboard) and the tests that keep them true: the compose stack comes up
// healthy and decides the demo corpus on both PDPs, and every metric the
// dashboard names is exported.
package deploy

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/verdict-pdp/verdict/internal/conformance"
	"github.com/verdict-pdp/verdict/internal/orgdoc"
)

// composeCommand returns how to run Compose here ("docker compose" or
// "docker-compose"), or skips the test when there is no Docker engine. An
// engine without Compose is a failure: the stack is part of the product.
func composeCommand(t *testing.T) []string {
	t.Helper()
	if _, err := exec.LookPath("docker"); err != nil {
		t.Skip("no docker command: the compose stack needs a Docker engine")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(ctx, "docker", "info", "--format", "{{.ServerVersion}}").CombinedOutput(); err != nil {
		t.Skipf("no Docker engine answers: %v %s", err, out)
	}
	if exec.CommandContext(ctx, "docker", "compose", "version").Run() == nil {
		return []string{"docker", "compose"}
	}
	if _, err := exec.LookPath("docker-compose"); err == nil {
		return []string{"docker-compose"}
	}
	t.Fatal("Docker is here but Compose is not (neither `docker compose` nor `docker-compose`)")
	return nil
}

// TestCompose builds the images with `make images` (the binary once, the
// images from it), brings deploy/compose.yaml up under a project and image
// tag of its own on free ports, waits until every service is healthy (the
// one-shot ones exited 0), replays data/demo.json against the central PDP
// and the edge, and tears everything down, volumes and images included.
func TestCompose(t *testing.T) {
	compose := composeCommand(t)
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute) // a hang guard
	defer cancel()
	id := fmt.Sprintf("t%d%d", os.Getpid(), time.Now().UnixNano()%1e6)
	project, tag := "verdictcompose"+id, "test-"+id
	env := append(os.Environ(), "VERDICT_IMAGE_TAG="+tag, "VERDICT_CENTRAL_PORT=0", "VERDICT_EDGE_PORT=0")
	run := func(dir string, name string, args ...string) string {
		t.Helper()
		cmd := exec.CommandContext(ctx, name, args...)
		cmd.Dir, cmd.Env = dir, env
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		if err := cmd.Run(); err != nil {
			t.Fatalf("%s %s: %v\n%s%s", name, strings.Join(args, " "), err, out.String(), errOut.String())
		}
		return out.String()
	}
	dc := func(args ...string) string {
		t.Helper()
		return run(".", compose[0], append(append(compose[1:], "-f", "compose.yaml", "-p", project), args...)...)
	}

	start := time.Now()
	run("..", "make", "images", "IMAGE_TAG="+tag)
	t.Cleanup(func() {
		_ = exec.Command("docker", "image", "rm", "verdict:"+tag, "verdict-redis:"+tag).Run()
	})
	t.Logf("make images: %v", time.Since(start).Round(100*time.Millisecond))

	start = time.Now()
	t.Cleanup(func() {
		if t.Failed() {
			logs := exec.Command(compose[0], append(append(compose[1:], "-f", "compose.yaml", "-p", project), "logs", "--no-color", "--tail", "40")...)
			logs.Env = env
			out, _ := logs.CombinedOutput()
			t.Logf("compose logs:\n%s", out)
		}
		down := exec.Command(compose[0], append(append(compose[1:], "-f", "compose.yaml", "-p", project), "down", "-v", "--remove-orphans")...)
		down.Env = env
		if out, err := down.CombinedOutput(); err != nil {
			t.Errorf("compose down: %v\n%s", err, out)
		}
	})
	dc("up", "-d")
	waitHealthy(ctx, t, dc)
	t.Logf("compose up, every service healthy: %v", time.Since(start).Round(100*time.Millisecond))

	raw, err := os.ReadFile(filepath.Join("..", "data", "demo.json"))
	if err != nil {
		t.Fatal(err)
	}
	corpus, err := orgdoc.DecodeCorpus(raw)
	if err != nil {
		t.Fatal(err)
	}
	cases := len(corpus.Evaluations) + len(corpus.Filters)
	for _, svc := range []string{"central", "edge"} {
		addr := strings.TrimSpace(dc("port", svc, "8181"))
		url := "http://" + strings.Replace(addr, "0.0.0.0", "127.0.0.1", 1)
		remote := conformance.NewRemote(url, "")
		res := conformance.Run(ctx, corpus, remote)
		var report bytes.Buffer
		conformance.Report(&report, res)
		if res.Passed != cases || len(res.Failures) != 0 {
			t.Errorf("%s (%s): want %d passed, 0 failed; got\n%s", svc, url, cases, report.String())
		}
		if unknown := remote.Tally().Unknown(nil); len(unknown) != 0 {
			t.Errorf("%s does not hold orgs %q", svc, unknown)
		}
		t.Logf("%s at %s: %s", svc, url, strings.TrimSpace(report.String()))
	}
}

// waitHealthy polls the services' states until redis, central and edge are
// healthy and the one-shot keys and import have exited 0. A one-shot that
// failed, or a service that turned unhealthy, fails at once.
func waitHealthy(ctx context.Context, t *testing.T, dc func(...string) string) {
	t.Helper()
	want := map[string]string{"redis": "healthy", "central": "healthy", "edge": "healthy", "keys": "exited 0", "import": "exited 0"}
	var last map[string]string
	for ctx.Err() == nil {
		last = map[string]string{}
		for svc := range want {
			ids := strings.Fields(dc("ps", "-q", svc))
			if len(ids) != 1 {
				last[svc] = fmt.Sprintf("%d containers", len(ids))
				continue
			}
			out, err := exec.CommandContext(ctx, "docker", "inspect", "--format",
				"{{.State.Status}} {{.State.ExitCode}} {{if .State.Health}}{{.State.Health.Status}}{{end}}", ids[0]).Output()
			if err != nil {
				t.Fatalf("docker inspect %s: %v", svc, err)
			}
			f := strings.Fields(string(out))
			switch {
			case len(f) >= 2 && f[0] == "exited":
				last[svc] = "exited " + f[1]
			case len(f) == 3:
				last[svc] = f[2]
			default:
				last[svc] = strings.Join(f, " ")
			}
			if last[svc] == "unhealthy" || (strings.HasPrefix(last[svc], "exited") && last[svc] != want[svc]) {
				t.Fatalf("%s is %s; states: %v", svc, last[svc], last)
			}
		}
		done := true
		for svc, w := range want {
			done = done && last[svc] == w
		}
		if done {
			return
		}
		time.Sleep(time.Second)
	}
	t.Fatalf("the stack did not become healthy: %v", last)
}

package edge

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
	tcnetwork "github.com/testcontainers/testcontainers-go/network"
	"github.com/testcontainers/testcontainers-go/wait"
)

// TestContainers runs the deployment: Redis, a central PDP and two edges,
// each in its own container (FROM scratch, built here; nothing is pulled),
// on an internal Docker network. The central PDP and the edges also sit on
// Docker's default bridge, where the test reaches their published ports;
// Redis and the bundle endpoint are only on the internal network.
//
//  1. A write through the central admin API reaches both edges: the delay
//     from the write's answer to the first flipped decision is logged.
//  2. Edge 2 is disconnected from the network: it keeps answering from its
//     last bundle while a write it cannot see lands.
//  3. Edge 2 restarts, still cut off: it starts from its persisted bundle.
//  4. Edge 2 is reconnected and catches up.
func TestContainers(t *testing.T) {
	p := dockerOrSkip(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cli := p.Client()
	verdictTag := verdictImage(ctx, t, cli)
	redisTag := redisImage(ctx, t, cli)
	t0 := time.Now()

	// Internal: the control plane's network never carries a default route,
	// so every container's published port stays on the bridge, and cutting
	// an edge off the control plane leaves it reachable by the test.
	nw, err := tcnetwork.New(ctx, tcnetwork.WithInternal())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = nw.Remove(context.Background()) })
	k := newKeys(t)
	keyFiles := []testcontainers.ContainerFile{
		{HostFilePath: k.KeyPath, ContainerFilePath: "/keys/key.pem", FileMode: 0o444},
		{HostFilePath: k.PubPath, ContainerFilePath: "/keys/pub.pem", FileMode: 0o444},
	}
	run := func(name string, req testcontainers.ContainerRequest) testcontainers.Container {
		t.Helper()
		req.Labels = map[string]string{"verdict.edgetest": name}
		ctr, err := testcontainers.GenericContainer(ctx, testcontainers.GenericContainerRequest{ContainerRequest: req, Started: true})
		if ctr != nil {
			t.Cleanup(func() {
				if t.Failed() {
					logTail(t, name, ctr)
				}
				_ = testcontainers.TerminateContainer(ctr)
			})
		}
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return ctr
	}
	run("redis", testcontainers.ContainerRequest{
		Image: redisTag, Networks: []string{nw.Name}, NetworkAliases: map[string][]string{nw.Name: {"redis"}},
		WaitingFor: wait.ForLog("Ready to accept connections").WithStartupTimeout(hangGuard),
	})
	// The central PDP is told its bundle signing key the way serve.go reads
	// it once bundle serving is mounted there (VERDICT_BUNDLE_SIGNING_KEY).
	central := run("central", testcontainers.ContainerRequest{
		Image: verdictTag, Cmd: []string{"serve", "--addr", "0.0.0.0:8181", "--redis-url", "redis://redis:6379/0", "--auth", "none"},
		Env:      map[string]string{"VERDICT_BUNDLE_SIGNING_KEY": "/keys/key.pem"},
		Files:    keyFiles,
		Networks: []string{"bridge", nw.Name}, NetworkAliases: map[string][]string{nw.Name: {"central"}},
		ExposedPorts: []string{"8181/tcp"},
	})
	centralURL := endpoint(ctx, t, central)
	waitReady(t, centralURL+"/ready", hangGuard)
	demo, err := os.ReadFile(filepath.Join(root, "data", "demo.json"))
	if err != nil {
		t.Fatal(err)
	}
	var corpus struct{ Orgs []json.RawMessage }
	_ = json.Unmarshal(demo, &corpus)
	if code, body := send(t, http.MethodPut, centralURL+"/admin/v1/orgs/demo", corpus.Orgs[0]); code != http.StatusOK {
		t.Fatalf("import demo: %d %s", code, body)
	}
	// Bundles come from the central PDP when it serves them; else from
	// `verdict bundle serve`, the same endpoint on its own, on the same Redis.
	bundleURL := "http://central:8181/bundles/demo/prod.tar.gz"
	if code, _ := send(t, http.MethodGet, centralURL+"/bundles/demo/prod.tar.gz", nil); code != http.StatusOK {
		t.Logf("the central PDP does not serve /bundles (HTTP %d): using `verdict bundle serve` beside it", code)
		run("bundles", testcontainers.ContainerRequest{
			Image: verdictTag, Cmd: []string{"bundle", "serve", "--addr", "0.0.0.0:8181", "--redis-url", "redis://redis:6379/0",
				"--signing-key", "/keys/key.pem", "--auth", "none"},
			Files: keyFiles, Networks: []string{nw.Name}, NetworkAliases: map[string][]string{nw.Name: {"bundles"}},
			WaitingFor: wait.ForLog("verdict bundle serve").WithStartupTimeout(hangGuard),
		})
		bundleURL = "http://bundles:8181/bundles/demo/prod.tar.gz"
	}
	edgeReq := func(alias string) testcontainers.ContainerRequest {
		return testcontainers.ContainerRequest{
			Image: verdictTag, Cmd: []string{"edge", "--addr", "0.0.0.0:8181", "--auth", "none", "--bundle", bundleURL,
				"--verification-key", "/keys/pub.pem", "--data-dir", "/var/lib/verdict", "--long-poll", "20s"},
			Files:    keyFiles,
			Networks: []string{"bridge", nw.Name}, NetworkAliases: map[string][]string{nw.Name: {alias}},
			ExposedPorts: []string{"8181/tcp"},
		}
	}
	edge1, edge2 := run("edge1", edgeReq("edge1")), run("edge2", edgeReq("edge2"))
	e1, e2 := endpoint(ctx, t, edge1), endpoint(ctx, t, edge2)
	waitReady(t, e1+"/ready", hangGuard)
	waitReady(t, e2+"/ready", hangGuard)
	waitDecision(t, e1, true, hangGuard)
	waitDecision(t, e2, true, hangGuard)
	t.Logf("deployment up in %v", time.Since(t0).Round(100*time.Millisecond))

	// 1. Writes reach connected edges.
	var delays []time.Duration
	active := true
	for range 4 {
		active = !active
		wrote := setTomHTTP(t, centralURL, active)
		for _, e := range []string{e1, e2} {
			delays = append(delays, waitDecision(t, e, active, hangGuard).Sub(wrote))
		}
	}
	// Logged for people, never asserted: the figure is a benchmark's
	// (BenchmarkWriteToEdge, docs/benchmarks.md).
	slices.Sort(delays)
	t.Logf("write-to-edge delay in containers (admin API write answered -> edge decision flipped), %d samples: min %v, median %v, max %v",
		len(delays), delays[0].Round(time.Millisecond), delays[len(delays)/2].Round(time.Millisecond), delays[len(delays)-1].Round(time.Millisecond))

	// 2. Edge 2 is cut off: it keeps answering from its last bundle.
	if _, err := cli.NetworkDisconnect(ctx, nw.ID, client.NetworkDisconnectOptions{Container: edge2.GetContainerID(), Force: true}); err != nil {
		t.Fatal(err)
	}
	before := active
	active = !active
	setTomHTTP(t, centralURL, active)
	waitDecision(t, e1, active, hangGuard)
	stale(t, e2, before, 2*time.Second)

	// 3. Edge 2 restarts, still cut off, from its persisted bundle.
	stop := 5 * time.Second
	if err := edge2.Stop(ctx, &stop); err != nil {
		t.Fatal(err)
	}
	if err := edge2.Start(ctx); err != nil {
		t.Fatal(err)
	}
	e2 = endpoint(ctx, t, edge2) // the host port may change
	waitReady(t, e2+"/ready", hangGuard)
	stale(t, e2, before, time.Second)
	t.Log("edge 2 restarted while cut off: ready from its persisted bundle, answering as before the cut")

	// 4. Edge 2 is reconnected and catches up.
	reconnected := time.Now()
	if _, err := cli.NetworkConnect(ctx, nw.ID, client.NetworkConnectOptions{Container: edge2.GetContainerID(),
		EndpointConfig: &network.EndpointSettings{Aliases: []string{"edge2"}}}); err != nil {
		t.Fatal(err)
	}
	caught := waitDecision(t, e2, active, hangGuard)
	t.Logf("edge 2 caught up %v after being reconnected", caught.Sub(reconnected).Round(time.Millisecond))
	t.Logf("container test: %v after the images were ready", time.Since(t0).Round(100*time.Millisecond))
}

// endpoint is the container's published 8181 as an http:// base URL. When
// the engine runs on this machine (or in this very container) the port is
// reached on loopback, whatever address testcontainers guesses for the
// daemon; else at the daemon's host.
func endpoint(ctx context.Context, t *testing.T, ctr testcontainers.Container) string {
	t.Helper()
	port, err := ctr.MappedPort(ctx, "8181/tcp")
	if err != nil {
		t.Fatal(err)
	}
	host, err := ctr.Host(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for range 50 {
		for _, h := range []string{"127.0.0.1", host} {
			if c, err := net.DialTimeout("tcp", net.JoinHostPort(h, port.Port()), 200*time.Millisecond); err == nil {
				c.Close()
				return "http://" + net.JoinHostPort(h, port.Port())
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("port %s of the container answers neither on 127.0.0.1 nor on %s", port.Port(), host)
	return ""
}

// setTomHTTP activates or disables tom through the central admin API and
// returns when the write was answered.
func setTomHTTP(t *testing.T, central string, active bool) time.Time {
	t.Helper()
	action := map[bool]string{true: "activate", false: "disable"}[active]
	if code, body := send(t, http.MethodPost, central+"/admin/v1/orgs/demo/users/u-tom/"+action, nil); code != http.StatusOK {
		t.Fatalf("%s tom: %d %s", action, code, body)
	}
	return time.Now()
}

// stale checks for a while that an edge keeps answering, and as before.
func stale(t *testing.T, edge string, want bool, d time.Duration) {
	t.Helper()
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		code, raw := postJSON(t, edge+"/access/v1/evaluation", tomAccess)
		var got struct{ Decision bool }
		_ = json.Unmarshal(raw, &got)
		if code != http.StatusOK || got.Decision != want {
			t.Fatalf("cut-off edge answered %d %s, want decision %v from its last bundle", code, raw, want)
		}
	}
}

func send(t *testing.T, method, url string, body []byte) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// logTail logs the end of a container's output, to see why a test failed.
func logTail(t *testing.T, name string, ctr testcontainers.Container) {
	rc, err := ctr.Logs(context.Background())
	if err != nil {
		return
	}
	defer rc.Close()
	b, _ := io.ReadAll(rc)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	t.Logf("%s logs:\n%s", name, b)
}

// Package healthcheck is `verdict healthcheck`: it asks a running PDP (serve,
// edge or bundle serve) whether it is ready, and exits 0 when it is. Images
// are FROM scratch, without curl or a shell: this is the probe a container
// health check runs.
package healthcheck

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/verdict-pdp/verdict/internal/cmd/cliflag"
)

// Run runs the command.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c := cliflag.New("healthcheck", "[--url URL] [--path /ready|/health] [flags]",
		`Asks a running PDP whether it is ready (GET URL/ready: Redis reachable on a central PDP,
a bundle for every org on an edge) and exits 0 on 200, 1 otherwise, saying why on stderr.
Without --url it asks this host at the port of VERDICT_ADDR (default 8181), as a container
health check does: the images have no shell and no curl.`,
		"verdict healthcheck",
		"verdict healthcheck --url http://127.0.0.1:8181 --path /health",
		"verdict healthcheck --url https://pdp.example.com --ca-cert ca.pem")
	url := c.String("url", "", "base `URL` of the PDP (default http://127.0.0.1:PORT, PORT from VERDICT_ADDR or 8181)")
	path := c.String("path", "/ready", "`PATH` asked: /ready (can it decide) or /health (is it alive)")
	timeout := c.Duration("timeout", 3*time.Second, "give up after this long")
	caCert := c.String("ca-cert", "", "CA certificate `FILE` (PEM) of the PDP's TLS certificate")
	pos, code, ok := c.Parse(args, stdout, stderr)
	if !ok {
		return code
	}
	if len(pos) > 0 {
		return c.Fail(stderr, "unexpected argument %q", pos[0])
	}
	base := *url
	if base == "" {
		base = localURL(os.Getenv("VERDICT_ADDR"))
	}
	client := &http.Client{Timeout: *timeout}
	if *caCert != "" {
		pem, err := os.ReadFile(*caCert)
		if err != nil {
			return c.Fail(stderr, "%v", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return c.Fail(stderr, "--ca-cert %s: no PEM certificate", *caCert)
		}
		client.Transport = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}
	}
	target := strings.TrimRight(base, "/") + "/" + strings.TrimLeft(*path, "/")
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return c.Fail(stderr, "%v", err)
	}
	resp, err := client.Do(req)
	if err != nil {
		fmt.Fprintf(stderr, "verdict healthcheck: %v\n", err)
		return 1
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096)) // only shown to the user
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintf(stderr, "verdict healthcheck: %s: HTTP %d %s\n", target, resp.StatusCode, strings.TrimSpace(string(body)))
		return 1
	}
	fmt.Fprintf(stdout, "%s: ok\n", target)
	return 0
}

// localURL is this host's URL for a listen address: 0.0.0.0:8181 and :8181
// are asked at 127.0.0.1:8181.
func localURL(addr string) string {
	port := "8181"
	if addr != "" {
		if _, p, err := net.SplitHostPort(addr); err == nil && p != "" {
			port = p
		}
	}
	return "http://" + net.JoinHostPort("127.0.0.1", port)
}

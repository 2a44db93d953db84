package healthcheck

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestHealthcheck(t *testing.T) {
	ready := true
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/health":
			_, _ = w.Write([]byte(`{"status":"ok"}`))
		case r.URL.Path == "/ready" && ready:
			_, _ = w.Write([]byte(`{"status":"ready"}`))
		default:
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(`{"status":"unavailable","reason":"redis: connection refused"}`))
		}
	}))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close() // a port nothing listens on

	for _, tc := range []struct {
		name     string
		args     []string
		addr     string // VERDICT_ADDR
		ready    bool
		code     int
		out, err string
	}{
		{name: "ready", args: []string{"--url", srv.URL}, ready: true, code: 0, out: srv.URL + "/ready: ok\n"},
		{name: "not ready", args: []string{"--url", srv.URL}, code: 1, err: "HTTP 503 {\"status\":\"unavailable\",\"reason\":\"redis: connection refused\"}"},
		{name: "alive though not ready", args: []string{"--url", srv.URL, "--path", "/health"}, code: 0, out: "/health: ok"},
		{name: "the port of VERDICT_ADDR", addr: "0.0.0.0:" + port, ready: true, code: 0, out: "http://127.0.0.1:" + port + "/ready: ok"},
		{name: "nothing listens", args: []string{"--url", closed.URL}, code: 1, err: "verdict healthcheck: "},
		{name: "bad flag", args: []string{"--nope"}, code: 2, err: "unknown flag --nope"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("VERDICT_ADDR", tc.addr)
			ready = tc.ready
			var out, errOut bytes.Buffer
			code := Run(context.Background(), tc.args, &out, &errOut)
			if code != tc.code || !strings.Contains(out.String(), tc.out) || !strings.Contains(errOut.String(), tc.err) ||
				(tc.out == "" && out.Len() > 0) || (tc.err == "" && errOut.Len() > 0) {
				t.Errorf("exit %d stdout %q stderr %q; want %d, %q, %q", code, out.String(), errOut.String(), tc.code, tc.out, tc.err)
			}
		})
	}
}

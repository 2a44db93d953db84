package client_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/verdict-pdp/verdict/client"
	"github.com/verdict-pdp/verdict/internal/cmd/importexport"
	"github.com/verdict-pdp/verdict/internal/cmd/serve"
	"github.com/verdict-pdp/verdict/internal/testutil/redistest"
)

const demoFile = "../data/demo.json"

// devURL is the base URL of a PDP started like `make run` (serve --dev:
// the demo org, sign-in off) for the examples; TestMain starts it.
var devURL string

func TestMain(m *testing.M) {
	cfg := serve.Config{Dev: true, Addr: "127.0.0.1:0"}
	if err := cfg.Validate(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	srv, err := serve.Start(context.Background(), &cfg, slog.New(slog.DiscardHandler), io.Discard)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	devURL = "http://" + srv.Addr
	code := m.Run()
	srv.Close()
	os.Exit(code)
}

// startPDP runs a central PDP on a real Redis holding the demo org.
func startPDP(t *testing.T, cfg serve.Config) string {
	t.Helper()
	rs := redistest.Start(t)
	var out, errOut bytes.Buffer
	if code := importexport.Import(context.Background(), []string{demoFile, "--redis-url", rs.URL()}, &out, &errOut); code != 0 {
		t.Fatalf("import: %d %s %s", code, out.String(), errOut.String())
	}
	cfg.RedisURL, cfg.Addr, cfg.DefaultOrg = rs.URL(), "127.0.0.1:0", "demo"
	if cfg.Auth == "" {
		cfg.Auth = "none"
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	srv, err := serve.Start(context.Background(), &cfg, slog.New(slog.DiscardHandler), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	scheme := "http"
	if cfg.TLSCert != "" {
		scheme = "https"
	}
	return scheme + "://" + srv.Addr
}

func newClient(t *testing.T, cfg client.Config) *client.Client {
	t.Helper()
	c, err := client.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// ctx bounds a test's calls: a hang guard, never a measurement.
func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return c
}

// pki is a throwaway CA, a server certificate for 127.0.0.1 and a client
// certificate, as PEM files.
type pki struct {
	ca, serverCert, serverKey, clientCert, clientKey string
}

func newPKI(t *testing.T) pki {
	t.Helper()
	dir := t.TempDir()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "client test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true,
		KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, typ string, der []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	issue := func(name string, serial int64, usage x509.ExtKeyUsage, ip bool) (string, string) {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: name},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), ExtKeyUsage: []x509.ExtKeyUsage{usage}}
		if ip {
			tmpl.IPAddresses = []net.IP{net.ParseIP("127.0.0.1")}
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &k.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		kb, err := x509.MarshalECPrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		return write(name+".pem", "CERTIFICATE", der), write(name+".key", "EC PRIVATE KEY", kb)
	}
	p := pki{ca: write("ca.pem", "CERTIFICATE", caDER)}
	p.serverCert, p.serverKey = issue("server", 2, x509.ExtKeyUsageServerAuth, true)
	p.clientCert, p.clientKey = issue("svc-portal", 3, x509.ExtKeyUsageClientAuth, false)
	return p
}

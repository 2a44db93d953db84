package test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/verdict-pdp/verdict/internal/cmd/serve"
	"github.com/verdict-pdp/verdict/internal/testutil/apispec"
)

// pki is a throwaway CA with a server and a client certificate.
type pki struct {
	caPEM, caFile, serverCert, serverKey string
	client                               tls.Certificate
}

func newPKI(t *testing.T) pki {
	t.Helper()
	return makePKI(t, t.TempDir())
}

// testPKI is one CA, server and client certificate for the whole test
// binary: every API test runs over HTTP and over HTTPS with mutual TLS.
var (
	pkiOnce sync.Once
	shared  pki
	// httpc is every API test's client: each exchange with a PDP a test
	// started (startPDP) is checked against the OpenAPI description.
	httpc = &http.Client{Timeout: 30 * time.Second, Transport: apispec.Central().Transport(nil)}
)

func sharedPKI(t *testing.T) pki {
	pkiOnce.Do(func() {
		dir, err := os.MkdirTemp("", "verdict-test-pki")
		if err != nil {
			t.Fatal(err)
		}
		shared = makePKI(t, dir)
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM([]byte(shared.caPEM))
		httpc.Transport = apispec.Central().Transport(&http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{shared.client}}})
	})
	return shared
}

// schemes are the two ways every API test talks to verdict serve.
var schemes = []string{"http", "https"}

// withScheme adds the TLS settings (mutual TLS) to cfg for https.
func withScheme(t *testing.T, scheme string, cfg serve.Config) serve.Config {
	p := sharedPKI(t)
	if scheme == "https" {
		cfg.TLSCert, cfg.TLSKey, cfg.TLSClientCA = p.serverCert, p.serverKey, p.caFile
	}
	return cfg
}

func makePKI(t *testing.T, dir string) pki {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "verdict test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true,
		KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	issue := func(cn string, usage x509.ExtKeyUsage, ip bool) ([]byte, []byte) {
		k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), ExtKeyUsage: []x509.ExtKeyUsage{usage}}
		if ip {
			tmpl.IPAddresses = []net.IP{net.ParseIP("127.0.0.1")}
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &k.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		kb, _ := x509.MarshalECPrivateKey(k)
		return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb})
	}
	p := pki{caPEM: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}))}
	p.caFile = filepath.Join(dir, "ca.pem")
	p.serverCert, p.serverKey = filepath.Join(dir, "server.pem"), filepath.Join(dir, "server.key")
	sc, sk := issue("127.0.0.1", x509.ExtKeyUsageServerAuth, true)
	cc, ck := issue("svc-portal", x509.ExtKeyUsageClientAuth, false)
	for f, b := range map[string][]byte{p.caFile: []byte(p.caPEM), p.serverCert: sc, p.serverKey: sk} {
		if err := os.WriteFile(f, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	var err2 error
	if p.client, err2 = tls.X509KeyPair(cc, ck); err2 != nil {
		t.Fatal(err2)
	}
	return p
}

// TestMutualTLS: verdict serve over HTTPS with client certificates required.
func TestMutualTLS(t *testing.T) {
	rs := startRedisWithDemo(t)
	p := newPKI(t)
	pdp := startPDP(t, serve.Config{RedisURL: rs, Auth: "none", DefaultOrg: "demo",
		TLSCert: p.serverCert, TLSKey: p.serverKey, TLSClientCA: p.caFile})
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM([]byte(p.caPEM))
	body, _ := json.Marshal(map[string]any{
		"subject": map[string]any{"type": "user", "id": "u-tom"}, "action": map[string]any{"name": "access"},
		"resource": map[string]any{"type": "solution", "id": "mortgage"}, "context": map[string]any{"environment": "prod"},
	})
	with := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{p.client}}}}
	resp, err := with.Post("https://"+pdp.Addr+"/access/v1/evaluation", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var d answer
	_ = json.NewDecoder(resp.Body).Decode(&d)
	resp.Body.Close()
	if resp.StatusCode != 200 || !d.Decision {
		t.Errorf("with a client certificate: %d %+v", resp.StatusCode, d)
	}
	var meta map[string]string
	mr, err := with.Get("https://" + pdp.Addr + "/.well-known/authzen-configuration")
	if err == nil {
		_ = json.NewDecoder(mr.Body).Decode(&meta)
		mr.Body.Close()
	}
	if meta["policy_decision_point"] != "https://"+pdp.Addr {
		t.Errorf("metadata over HTTPS: %v", meta)
	}
	without := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	if resp, err := without.Post("https://"+pdp.Addr+"/access/v1/evaluation", "application/json", bytes.NewReader(body)); err == nil {
		resp.Body.Close()
		t.Errorf("without a client certificate the handshake must fail, got %d", resp.StatusCode)
	}
}

func startRedisWithDemo(t *testing.T) string {
	_, url := demoRedis(t)
	return url
}

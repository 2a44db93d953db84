package bundlecmd

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// keyPair writes an ECDSA key pair as PEM files.
func keyPair(t *testing.T, dir, name string) (priv, pub string) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalECPrivateKey(k)
	pubDer, _ := x509.MarshalPKIXPublicKey(&k.PublicKey)
	priv, pub = filepath.Join(dir, name+".pem"), filepath.Join(dir, name+".pub.pem")
	_ = os.WriteFile(priv, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}), 0o600)
	_ = os.WriteFile(pub, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDer}), 0o644)
	return priv, pub
}

func run(args ...string) (int, string, string) {
	var out, errOut bytes.Buffer
	code := Run(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestBuildAndInspect(t *testing.T) {
	dir := t.TempDir()
	key, pub := keyPair(t, dir, "key")
	_, otherPub := keyPair(t, dir, "other")
	out := filepath.Join(dir, "bundles", "demo-prod.tar.gz")
	code, stdout, stderr := run("build", "--from", "../../../data/demo.json", "--env", "prod", "--signing-key", key, "--out", out)
	if code != 0 {
		t.Fatalf("build: %d\n%s%s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "signed ES256") || !strings.Contains(stdout, "/v1/data/verdict/orgs/demo/main/decision") {
		t.Errorf("build output: %s", stdout)
	}
	if !strings.Contains(stderr, "5/5 writing") {
		t.Errorf("no progress on stderr: %s", stderr)
	}
	if code, stdout, _ := run("inspect", out, "--verification-key", pub); code != 0 || !strings.Contains(stdout, `"environment": "prod"`) {
		t.Errorf("inspect: %d %s", code, stdout)
	}
	if code, _, stderr := run("inspect", out, "--verification-key", otherPub); code != 1 || !strings.Contains(stderr, "REFUSED") {
		t.Errorf("inspect with another key: %d %s", code, stderr)
	}
}

func TestBuildUsage(t *testing.T) {
	for _, args := range [][]string{
		{"build", "--org", "demo"},                                // no source
		{"build", "--from", "x.json", "--redis-url", "redis://x"}, // two sources
		{"nope"},
	} {
		if code, _, _ := run(args...); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
	if code, _, stderr := run("build", "--from", "../../../data/demo.json", "--org", "acme", "--out", filepath.Join(t.TempDir(), "x.tar.gz")); code != 1 || !strings.Contains(stderr, `no org "acme"`) {
		t.Errorf("unknown org: %d %s", code, stderr)
	}
}

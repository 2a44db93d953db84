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

// TestKeygen: a key pair that signs and verifies a bundle, kept on a second
// run, replaced with --force; the private key is readable by its owner only.
func TestKeygen(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "keys")
	code, stdout, stderr := run("keygen", "--out-dir", dir)
	if code != 0 || !strings.Contains(stdout, "signing.pem (private, ES256)") {
		t.Fatalf("keygen: %d %s %s", code, stdout, stderr)
	}
	priv, pub := filepath.Join(dir, "signing.pem"), filepath.Join(dir, "verification.pem")
	if fi, err := os.Stat(priv); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("private key: %v %v, want mode 0600", fi.Mode(), err)
	}
	first, _ := os.ReadFile(priv)
	out := filepath.Join(t.TempDir(), "demo.tar.gz")
	if code, stdout, stderr := run("build", "--from", "../../../data/demo.json", "--signing-key", priv, "--out", out); code != 0 {
		t.Fatalf("build: %d %s %s", code, stdout, stderr)
	}
	if code, stdout, _ := run("inspect", out, "--verification-key", pub); code != 0 || !strings.Contains(stdout, `"signature_verified": true`) {
		t.Errorf("inspect: %d %s", code, stdout)
	}
	if code, _, stderr := run("keygen", "--out-dir", dir); code != 0 || !strings.Contains(stderr, "keeping the existing key pair") {
		t.Errorf("second keygen: %d %s", code, stderr)
	}
	if again, _ := os.ReadFile(priv); !bytes.Equal(again, first) {
		t.Error("a second keygen without --force replaced the key")
	}
	if code, _, _ := run("keygen", "--out-dir", dir, "--force"); code != 0 {
		t.Errorf("keygen --force: %d", code)
	}
	if again, _ := os.ReadFile(priv); bytes.Equal(again, first) {
		t.Error("keygen --force kept the key")
	}
	if code, _, _ := run("inspect", out, "--verification-key", pub); code != 1 {
		t.Errorf("inspect with the new key: exit %d, want 1 (REFUSED)", code)
	}
	if code, _, stderr := run("keygen"); code != 2 || !strings.Contains(stderr, "--out-dir is required") {
		t.Errorf("keygen without --out-dir: %d %s", code, stderr)
	}
}

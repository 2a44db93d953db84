package bundlecmd

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/verdict-pdp/verdict/internal/bundle"
	"github.com/verdict-pdp/verdict/internal/cmd/cliflag"
)

// keygen is `verdict bundle keygen`: a fresh ECDSA P-256 key pair, the
// private key readable by its owner only. Existing files are kept unless
// --force: a central PDP restarted with a new key would sign bundles its
// edges refuse.
func keygen(_ context.Context, args []string, stdout, stderr io.Writer) int {
	c := cliflag.New("bundle keygen", "--out-dir DIR [--force]",
		`Writes a new ECDSA P-256 key pair for bundle signing (ES256): DIR/signing.pem (private,
SEC 1, mode 0600: give it to the central PDP as --bundle-signing-key) and
DIR/verification.pem (public, PKIX: give it to edges as --verification-key, or to stock OPA).
When both files exist they are kept (exit 0, said on stderr) unless --force, so that it can
run at every start of a deployment without changing the key its edges trust.`,
		"verdict bundle keygen --out-dir keys",
		"verdict bundle keygen --out-dir /var/lib/verdict/keys --force")
	dir := c.String("out-dir", "", "write signing.pem and verification.pem into `DIR` (created if missing)")
	force := c.Bool("force", false, "replace an existing key pair")
	pos, code, ok := c.Parse(args, stdout, stderr)
	if !ok {
		return code
	}
	if len(pos) > 0 {
		return c.Fail(stderr, "unexpected argument %q", pos[0])
	}
	if *dir == "" {
		return c.Fail(stderr, "--out-dir is required")
	}
	priv, pub := filepath.Join(*dir, "signing.pem"), filepath.Join(*dir, "verification.pem")
	if !*force && exists(priv) && exists(pub) {
		if _, err := bundle.LoadSigner(priv); err != nil {
			fmt.Fprintf(stderr, "verdict bundle keygen: %s exists but is not a signing key: %v\n", priv, err)
			return 1
		}
		fmt.Fprintf(stderr, "verdict bundle keygen: keeping the existing key pair in %s (--force replaces it)\n", *dir)
		return 0
	}
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		fmt.Fprintf(stderr, "verdict bundle keygen: %v\n", err)
		return 1
	}
	der, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		fmt.Fprintf(stderr, "verdict bundle keygen: %v\n", err)
		return 1
	}
	pubDer, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		fmt.Fprintf(stderr, "verdict bundle keygen: %v\n", err)
		return 1
	}
	if err := os.MkdirAll(*dir, 0o755); err != nil {
		fmt.Fprintf(stderr, "verdict bundle keygen: %v\n", err)
		return 1
	}
	// The public key last: a pair is complete only when both exist.
	if err := writeFile(priv, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		fmt.Fprintf(stderr, "verdict bundle keygen: %v\n", err)
		return 1
	}
	if err := writeFile(pub, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDer}), 0o644); err != nil {
		fmt.Fprintf(stderr, "verdict bundle keygen: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "wrote %s (private, ES256) and %s (public)\n", priv, pub)
	return 0
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return !errors.Is(err, fs.ErrNotExist)
}

// writeFile writes through a temporary file and a rename, with mode perm.
func writeFile(path string, b []byte, perm os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".key-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(perm); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

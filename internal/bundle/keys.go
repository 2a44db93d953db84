package bundle

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"os"

	"github.com/verdict-pdp/verdict/internal/verr"
)

// KeyID names the signing key in .signatures.json ("kid") and in the OPA
// configuration of edges (keys.verdict). Stock OPA ignores it when given
// --verification-key, which binds its one key under its own id.
const KeyID = "verdict"

// Signer signs bundles with a private key (RS256 for RSA, ES256/384/512 for
// ECDSA P-256/384/521, chosen from the key). It is immutable.
type Signer struct {
	pem string
	alg string
}

// Alg is the JWS algorithm the signer uses.
func (s *Signer) Alg() string { return s.alg }

// LoadSigner reads a PEM private key (PKCS#1, PKCS#8 or SEC 1).
func LoadSigner(path string) (*Signer, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, verr.Wrap(verr.InvalidInput, "signing-key", err, "%v", err)
	}
	return NewSigner(raw)
}

// NewSigner returns a signer for a PEM private key.
func NewSigner(pemBytes []byte) (*Signer, error) {
	block, _ := pem.Decode(pemBytes)
	if block == nil {
		return nil, verr.New(verr.InvalidInput, "signing-key", "no PEM block")
	}
	var key any
	var err error
	switch block.Type {
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(block.Bytes)
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	default:
		return nil, verr.New(verr.InvalidInput, "signing-key", "a %q PEM block is not a private key", block.Type)
	}
	if err != nil {
		return nil, verr.Wrap(verr.InvalidInput, "signing-key", err, "%v", err)
	}
	var alg string
	switch k := key.(type) {
	case *rsa.PrivateKey:
		alg = "RS256"
	case *ecdsa.PrivateKey:
		alg, err = ecAlg(k.Curve)
	default:
		err = verr.New(verr.InvalidInput, "signing-key", "a %T key is not supported: use RSA (RS256) or ECDSA (ES256)", key)
	}
	if err != nil {
		return nil, err
	}
	// OPA's signer wants PEM blocks it knows: normalise to PKCS#8.
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, verr.Wrap(verr.InvalidInput, "signing-key", err, "%v", err)
	}
	return &Signer{pem: string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})), alg: alg}, nil
}

// VerificationKey is a public key edges verify bundles with.
type VerificationKey struct {
	PEM string // PKIX "PUBLIC KEY" block
	Alg string
}

// LoadVerificationKey reads a PEM public key (PKIX or PKCS#1 RSA) and the
// algorithm that goes with it. A private key is refused: edges must never
// hold what signs bundles.
func LoadVerificationKey(path string) (VerificationKey, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return VerificationKey{}, verr.Wrap(verr.InvalidInput, "verification-key", err, "%v", err)
	}
	return ParseVerificationKey(raw)
}

// ParseVerificationKey parses a PEM public key.
func ParseVerificationKey(pemBytes []byte) (VerificationKey, error) {
	block, _ := pem.Decode(pemBytes)
	if block == nil {
		return VerificationKey{}, verr.New(verr.InvalidInput, "verification-key", "no PEM block")
	}
	var key any
	var err error
	switch block.Type {
	case "PUBLIC KEY":
		key, err = x509.ParsePKIXPublicKey(block.Bytes)
	case "RSA PUBLIC KEY":
		key, err = x509.ParsePKCS1PublicKey(block.Bytes)
	default:
		return VerificationKey{}, verr.New(verr.InvalidInput, "verification-key", "a %q PEM block is not a public key", block.Type)
	}
	if err != nil {
		return VerificationKey{}, verr.Wrap(verr.InvalidInput, "verification-key", err, "%v", err)
	}
	var alg string
	switch k := key.(type) {
	case *rsa.PublicKey:
		alg = "RS256"
	case *ecdsa.PublicKey:
		if alg, err = ecAlg(k.Curve); err != nil {
			return VerificationKey{}, err
		}
	default:
		return VerificationKey{}, verr.New(verr.InvalidInput, "verification-key", "a %T key is not supported: use RSA or ECDSA", key)
	}
	der, err := x509.MarshalPKIXPublicKey(key)
	if err != nil {
		return VerificationKey{}, verr.Wrap(verr.InvalidInput, "verification-key", err, "%v", err)
	}
	return VerificationKey{PEM: string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})), Alg: alg}, nil
}

// PublicKey returns the verification key matching the signer.
func (s *Signer) PublicKey() VerificationKey {
	block, _ := pem.Decode([]byte(s.pem))
	key, _ := x509.ParsePKCS8PrivateKey(block.Bytes)
	var pub any
	switch k := key.(type) {
	case *rsa.PrivateKey:
		pub = &k.PublicKey
	case *ecdsa.PrivateKey:
		pub = &k.PublicKey
	}
	der, _ := x509.MarshalPKIXPublicKey(pub)
	return VerificationKey{PEM: string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})), Alg: s.alg}
}

func ecAlg(c elliptic.Curve) (string, error) {
	switch c {
	case elliptic.P256():
		return "ES256", nil
	case elliptic.P384():
		return "ES384", nil
	case elliptic.P521():
		return "ES512", nil
	}
	return "", verr.New(verr.InvalidInput, "key", "ECDSA curve %s is not supported", c.Params().Name)
}

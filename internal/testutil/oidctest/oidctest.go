// Package oidctest runs a real OpenID Connect issuer over HTTP inside a test:
// discovery at /.well-known/openid-configuration, the signing keys at /jwks
// and the authorization code flow with PKCE that a browser completes (a
// sign-in form at /auth, the code exchange at /token: authorize.go), on an
// httptest.Server closed at the test's cleanup. Tokens are RS256
// JWTs signed with go-jose, so a verifier under test goes through the same
// discovery, key fetching and signature checks it does against Keycloak.
//
// The issuer owns its server and keys. Every method is safe for concurrent
// use (parallel subtests may share one Issuer), except that RotateKey changes
// what later tokens are signed with. Methods fail the test through tb rather
// than returning errors.
package oidctest

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
)

// DefaultAudience is the aud of a token unless the claims give one; it is the
// client id Verdict expects by default in tests.
const DefaultAudience = "verdict"

// DefaultSubject is the sub of a token unless the claims give one.
const DefaultSubject = "user-1"

// Paths served by an Issuer.
const (
	DiscoveryPath = "/.well-known/openid-configuration"
	JWKSPath      = "/jwks"
)

// Key is an RSA signing key and the kid it is published under.
type Key struct {
	ID      string
	Private *rsa.PrivateKey
}

var keySeq atomic.Int64

// NewKey generates a fresh RSA-2048 key with a unique kid. A token signed with
// it (TokenWithKey) carries a signature no Issuer publishes.
func NewKey(tb testing.TB) Key {
	tb.Helper()
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		tb.Fatalf("oidctest: generate RSA key: %v", err)
	}
	return Key{ID: "test-key-" + strconv.FormatInt(keySeq.Add(1), 10), Private: priv}
}

// Issuer is a running OIDC issuer. Its zero value is not usable: call Start.
type Issuer struct {
	srv *httptest.Server
	ln  *gateListener

	tb   testing.TB
	flow flow // the authorization code flow (authorize.go)

	mu   sync.Mutex
	key  Key            // signs tokens and is published at /jwks
	hits map[string]int // requests served, by path
}

// Start runs an issuer with a freshly generated key until tb's cleanup.
func Start(tb testing.TB) *Issuer {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("oidctest: listen: %v", err)
	}
	is := &Issuer{tb: tb, key: NewKey(tb), hits: map[string]int{}, ln: &gateListener{Listener: ln}}
	is.srv = httptest.NewUnstartedServer(http.HandlerFunc(is.serve))
	is.srv.Listener.Close() // replaced by the gated listener, which Down/Up use
	is.srv.Listener = is.ln
	is.srv.Start()
	tb.Cleanup(is.srv.Close)
	return is
}

// URL is the issuer identifier: the server's base URL, no trailing slash.
func (is *Issuer) URL() string { return is.srv.URL }

// Key returns the key tokens are currently signed with.
func (is *Issuer) Key() Key {
	is.mu.Lock()
	defer is.mu.Unlock()
	return is.key
}

// RotateKey replaces the signing key with a new one and publishes only the new
// one, as when an IdP removes its old key: tokens signed before no longer
// verify, and verifiers must refetch /jwks to accept new ones (their kid is
// unknown to them). It returns the retired key. Note that go-oidc keeps
// the keys it has until a token names a kid it lacks, so a verifier that
// fetched keys before the rotation may go on accepting the retired key.
func (is *Issuer) RotateKey(tb testing.TB) Key {
	tb.Helper()
	k := NewKey(tb)
	is.mu.Lock()
	defer is.mu.Unlock()
	old := is.key
	is.key = k
	return old
}

// Down makes the issuer unreachable without giving up its address: new
// connections are closed at once and open ones are cut, so clients fail fast
// (as when Keycloak is down) and Up brings it back at the same URL.
func (is *Issuer) Down() {
	is.ln.down.Store(true)
	is.srv.CloseClientConnections()
}

// Up makes a downed issuer serve again.
func (is *Issuer) Up() { is.ln.down.Store(false) }

// Hits reports how many requests path has served (DiscoveryPath, JWKSPath),
// so tests can check that a verifier caches and does not hammer the IdP.
func (is *Issuer) Hits(path string) int {
	is.mu.Lock()
	defer is.mu.Unlock()
	return is.hits[path]
}

func (is *Issuer) serve(w http.ResponseWriter, r *http.Request) {
	is.mu.Lock()
	is.hits[r.URL.Path]++
	pub := is.key
	is.mu.Unlock()

	var body any
	switch r.URL.Path {
	case DiscoveryPath:
		u := is.URL()
		body = map[string]any{
			"issuer":                                u,
			"jwks_uri":                              u + JWKSPath,
			"authorization_endpoint":                u + AuthPath,
			"token_endpoint":                        u + TokenPath,
			"code_challenge_methods_supported":      []string{"S256"},
			"userinfo_endpoint":                     u + "/userinfo",
			"response_types_supported":              []string{"code"},
			"subject_types_supported":               []string{"public"},
			"id_token_signing_alg_values_supported": []string{"RS256"},
			"scopes_supported":                      []string{"openid", "profile", "email"},
			"grant_types_supported":                 []string{"authorization_code", "client_credentials"},
			"claims_supported":                      []string{"iss", "sub", "aud", "exp", "iat", "preferred_username"},
		}
	case JWKSPath:
		body = jose.JSONWebKeySet{Keys: []jose.JSONWebKey{publicJWK(pub)}}
	case AuthPath:
		is.authorize(w, r)
		return
	case TokenPath:
		is.token(w, r, is.tb)
		return
	default:
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(body)
}

func publicJWK(k Key) jose.JSONWebKey {
	return jose.JSONWebKey{Key: &k.Private.PublicKey, KeyID: k.ID, Algorithm: string(jose.RS256), Use: "sig"}
}

// gateListener accepts connections but, while down, closes them at once: the
// port stays ours (no race with other processes for a re-bound port) and
// clients see a prompt failure rather than a hang.
type gateListener struct {
	net.Listener
	down atomic.Bool
}

func (l *gateListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil || !l.down.Load() {
			return c, err
		}
		c.Close()
	}
}

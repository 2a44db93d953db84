package client_test

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"testing"

	"golang.org/x/oauth2"

	"github.com/verdict-pdp/verdict/client"
	"github.com/verdict-pdp/verdict/internal/cmd/serve"
	"github.com/verdict-pdp/verdict/internal/testutil/oidctest"
)

func newTLS() *tls.Config { return &tls.Config{MinVersion: tls.VersionTLS12} }

var mariaAccess = client.EvaluationRequest{Subject: &client.Subject{Type: "user", ID: "u-maria"}, Action: &client.Action{Name: "access"},
	Resource: &client.Resource{Type: "solution", ID: "mortgage"}, Context: client.Context{"org": "demo", "environment": "prod"}}

// TestBearerToken: a PDP with sign-in on (a real OIDC issuer) answers a
// client whose token source gives a token of the org, refuses one without
// (401) and one of another org (403), with the server's codes.
func TestBearerToken(t *testing.T) {
	is := oidctest.Start(t)
	url := startPDP(t, serve.Config{Auth: "oidc", OIDCIssuer: is.URL(), OIDCAudience: oidctest.DefaultAudience})
	ctx := ctx(t)
	demo := is.Token(t, map[string]any{"sub": "svc-portal", "org": "demo"})
	for name, ts := range map[string]client.TokenSource{
		"static": client.StaticToken(demo),
		"oauth2": client.OAuth2(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: demo})),
	} {
		d, err := newClient(t, client.Config{BaseURL: url, Tokens: ts}).Evaluate(ctx, mariaAccess)
		if err != nil || !d.Decision {
			t.Errorf("%s: %+v %v", name, d, err)
		}
	}
	for _, tc := range []struct {
		name   string
		tokens client.TokenSource
		status int
		code   string
	}{
		{"no token", nil, 401, client.CodeUnauthenticated},
		{"another org's", client.StaticToken(is.Token(t, map[string]any{"sub": "svc-x", "org": "acme"})), 403, client.CodeForbidden},
	} {
		_, err := newClient(t, client.Config{BaseURL: url, Tokens: tc.tokens}).Evaluate(ctx, mariaAccess)
		var e *client.Error
		if !errors.As(err, &e) || e.StatusCode != tc.status || e.Code != tc.code {
			t.Errorf("%s: %#v, want %d %s", tc.name, err, tc.status, tc.code)
		}
	}
	boom := errors.New("no token today")
	_, err := newClient(t, client.Config{BaseURL: url, Tokens: client.TokenFunc(func(context.Context) (string, error) { return "", boom })}).Evaluate(ctx, mariaAccess)
	if !errors.Is(err, boom) {
		t.Errorf("a failing token source: %v", err)
	}
}

// TestMutualTLS: a PDP requiring client certificates answers a client
// configured with TLSFiles, and refuses one without its certificate.
func TestMutualTLS(t *testing.T) {
	p := newPKI(t)
	url := startPDP(t, serve.Config{TLSCert: p.serverCert, TLSKey: p.serverKey, TLSClientCA: p.ca})
	ctx := ctx(t)
	tc, err := client.TLSFiles(p.ca, p.clientCert, p.clientKey)
	if err != nil {
		t.Fatal(err)
	}
	d, err := newClient(t, client.Config{BaseURL: url, TLS: tc}).Evaluate(ctx, mariaAccess)
	if err != nil || !d.Decision {
		t.Errorf("with the client certificate: %+v %v", d, err)
	}
	noCert, err := client.TLSFiles(p.ca, "", "")
	if err != nil {
		t.Fatal(err)
	}
	_, err = newClient(t, client.Config{BaseURL: url, TLS: noCert, Retries: -1}).Evaluate(ctx, mariaAccess)
	var ne net.Error
	var e *client.Error
	if err == nil || errors.As(err, &e) || (!errors.As(err, &ne) && !isTLSAlert(err)) {
		t.Errorf("without a client certificate: %v", err)
	}
	if _, err := client.TLSFiles(p.ca, p.clientCert, ""); err == nil {
		t.Error("a certificate without its key was accepted")
	}
}

func isTLSAlert(err error) bool {
	var a tls.AlertError
	return errors.As(err, &a)
}

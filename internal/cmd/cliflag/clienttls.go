package cliflag

import (
	"crypto/tls"

	"github.com/verdict-pdp/verdict/client"
)

// ClientTLS defines the TLS flags of a command that calls a PDP over HTTPS
// (--ca-cert, and --client-cert with --client-key for mutual TLS) and
// returns what builds their configuration after Parse: nil when none is
// given (the system's roots, no client certificate).
func ClientTLS(c *Command) func() (*tls.Config, error) {
	ca := c.String("ca-cert", "", "CA certificate `FILE` (PEM) that signed the PDP's certificate (default: the system's)")
	cert := c.String("client-cert", "", "client certificate `FILE` (PEM) for mutual TLS, with --client-key")
	key := c.String("client-key", "", "the client certificate's key `FILE` (PEM)")
	c.Env("ca-cert", "VERDICT_CA_CERT")
	c.Env("client-cert", "VERDICT_CLIENT_CERT")
	c.Env("client-key", "VERDICT_CLIENT_KEY")
	return func() (*tls.Config, error) {
		if *ca == "" && *cert == "" && *key == "" {
			return nil, nil
		}
		return client.TLSFiles(*ca, *cert, *key)
	}
}

package bundle

import (
	"bytes"

	"github.com/open-policy-agent/opa/v1/ast"
	opabundle "github.com/open-policy-agent/opa/v1/bundle"
	"github.com/open-policy-agent/opa/v1/keys"
	"github.com/verdict-pdp/verdict/internal/verr"
)

// VerificationConfig is the OPA bundle verification configuration for key:
// a signature is required and must be made with it.
func VerificationConfig(key VerificationKey) *opabundle.VerificationConfig {
	return opabundle.NewVerificationConfig(map[string]*keys.Config{
		KeyID: {Key: key.PEM, Algorithm: key.Alg},
	}, KeyID, "", nil)
}

// Read decodes a bundle archive the way an edge does: with key, a missing,
// broken or foreign signature, or a file that does not match it, is refused;
// without key, nothing is verified (tests, inspection).
func Read(archive []byte, key *VerificationKey) (*opabundle.Bundle, error) {
	r := opabundle.NewReader(bytes.NewReader(archive)).WithRegoVersion(ast.RegoV1)
	if key != nil {
		r = r.WithBundleVerificationConfig(VerificationConfig(*key))
	}
	b, err := r.Read()
	if err != nil {
		return nil, verr.Wrap(verr.InvalidInput, "bundle", err, "%v", err)
	}
	return &b, nil
}

package authn

import (
	"net/http"
	"net/url"
	"time"

	"github.com/verdict-pdp/verdict/internal/verr"
)

// Defaults applied by Config.Validate.
const (
	DefaultOrgClaim        = "org"
	DefaultDesignerClaim   = "designerUser"
	DefaultAttributesClaim = "attributes"
	DefaultRetryInterval   = 2 * time.Second
	// DefaultHTTPTimeout bounds each request to the IdP: a hung Keycloak must
	// not hold a decision request for ever.
	DefaultHTTPTimeout = 5 * time.Second
)

// Config says which IdP to trust and where Verdict's claims are.
type Config struct {
	// IssuerURL is the issuer identifier, exactly as the tokens' iss claim and
	// the discovery document spell it (for Keycloak
	// https://host/realms/<realm>, no trailing slash).
	IssuerURL string
	// Audience must be among the token's aud values (go-oidc's ClientID). With
	// Keycloak, add an audience mapper so access tokens carry it.
	Audience string
	// OrgClaim, DesignerClaim and AttributesClaim name the top-level claims
	// holding the user's organization, designer flag and attributes.
	OrgClaim        string
	DesignerClaim   string
	AttributesClaim string
	// RetryInterval is the least time between two failed discovery attempts,
	// so an outage does not turn every request into a request to the IdP.
	RetryInterval time.Duration
	// HTTPClient talks to the IdP; nil means a client with DefaultHTTPTimeout.
	HTTPClient *http.Client
}

// Validate fills in defaults and checks c, reporting the field at fault as
// verr.InvalidInput.
func (c *Config) Validate() error {
	if c.OrgClaim == "" {
		c.OrgClaim = DefaultOrgClaim
	}
	if c.DesignerClaim == "" {
		c.DesignerClaim = DefaultDesignerClaim
	}
	if c.AttributesClaim == "" {
		c.AttributesClaim = DefaultAttributesClaim
	}
	if c.RetryInterval == 0 {
		c.RetryInterval = DefaultRetryInterval
	}
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{Timeout: DefaultHTTPTimeout}
	}

	if c.IssuerURL == "" {
		return verr.New(verr.InvalidInput, "issuer_url", "is required")
	}
	u, err := url.Parse(c.IssuerURL)
	// http is allowed for local Keycloak and tests; the deployment decides.
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return verr.New(verr.InvalidInput, "issuer_url", "must be an absolute http(s) URL without query or fragment, got %q", c.IssuerURL)
	}
	if c.Audience == "" {
		return verr.New(verr.InvalidInput, "audience", "is required: tokens minted for other clients must not be accepted")
	}
	if c.RetryInterval < 0 {
		return verr.New(verr.InvalidInput, "retry_interval", "must not be negative")
	}
	return nil
}

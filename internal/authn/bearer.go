package authn

import (
	"net/http"
	"strings"

	"github.com/verdict-pdp/verdict/internal/verr"
)

// BearerToken returns the token of r's "Authorization: Bearer <token>" header
// (scheme case-insensitive, RFC 6750). A missing, repeated or malformed header
// is verr.Unauthenticated; the token itself is not checked here.
func BearerToken(r *http.Request) (string, error) {
	hs := r.Header.Values("Authorization")
	switch len(hs) {
	case 0:
		return "", verr.New(verr.Unauthenticated, "", "missing Authorization header")
	case 1:
	default:
		// Two headers could be read differently by a proxy and by us.
		return "", verr.New(verr.Unauthenticated, "", "more than one Authorization header")
	}
	scheme, tok, _ := strings.Cut(strings.TrimSpace(hs[0]), " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return "", verr.New(verr.Unauthenticated, "", "Authorization scheme must be Bearer")
	}
	tok = strings.TrimLeft(tok, " ")
	if tok == "" {
		return "", verr.New(verr.Unauthenticated, "", "empty bearer token")
	}
	if !isToken68(tok) {
		return "", verr.New(verr.Unauthenticated, "", "malformed bearer token")
	}
	return tok, nil
}

// isToken68 reports whether s is RFC 7235 token68: [A-Za-z0-9-._~+/]+ then '='s.
func isToken68(s string) bool {
	i := 0
	for ; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/') {
			break
		}
	}
	if i == 0 {
		return false
	}
	for ; i < len(s); i++ {
		if s[i] != '=' {
			return false
		}
	}
	return true
}

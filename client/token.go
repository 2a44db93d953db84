package client

import (
	"context"

	"golang.org/x/oauth2"
)

// TokenSource gives the caller's bearer token. It is asked once per attempt,
// so an implementation that caches and refreshes (OAuth2) keeps calls
// signed in across expiries. It must be safe for concurrent use.
type TokenSource interface {
	Token(ctx context.Context) (string, error)
}

// StaticToken is a TokenSource that always gives the same token.
type StaticToken string

// Token implements TokenSource.
func (s StaticToken) Token(context.Context) (string, error) { return string(s), nil }

// TokenFunc adapts a function to TokenSource.
type TokenFunc func(ctx context.Context) (string, error)

// Token implements TokenSource.
func (f TokenFunc) Token(ctx context.Context) (string, error) { return f(ctx) }

// OAuth2 adapts an oauth2.TokenSource (client credentials, a refreshed user
// token) to TokenSource; wrap it in oauth2.ReuseTokenSource so that tokens
// are cached until they expire (clientcredentials.Config.TokenSource already
// does). Its access token is sent.
func OAuth2(ts oauth2.TokenSource) TokenSource {
	return TokenFunc(func(context.Context) (string, error) {
		t, err := ts.Token()
		if err != nil {
			return "", err
		}
		return t.AccessToken, nil
	})
}

package oidctest

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"html/template"
	"maps"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"
)

// The authorization code flow with PKCE (RFC 7636), as a browser goes
// through it: GET /auth shows a sign-in form, POST /auth with a known
// username sends the browser back to redirect_uri with a one-time code, and
// POST /token exchanges the code, with the PKCE verifier, for signed tokens
// (id_token with the nonce, access_token). Only S256 challenges are
// accepted; a code is good once, for the client and redirect it was issued
// to, for a minute.

// Paths of the flow.
const (
	AuthPath  = "/auth"
	TokenPath = "/token"
)

type flow struct {
	mu    sync.Mutex
	users map[string]map[string]any // username -> claims
	codes map[string]grant
}

type grant struct {
	clientID, redirect, challenge, nonce string
	claims                               map[string]any
	expires                              time.Time
}

// AddUser lets username sign in through the login form; the tokens carry
// claims (sub defaults to the username, preferred_username to it too).
func (is *Issuer) AddUser(username string, claims map[string]any) {
	is.flow.mu.Lock()
	defer is.flow.mu.Unlock()
	c := map[string]any{"sub": username, "preferred_username": username}
	maps.Copy(c, claims)
	if is.flow.users == nil {
		is.flow.users = map[string]map[string]any{}
	}
	is.flow.users[username] = c
}

var loginPage = template.Must(template.New("login").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in · test issuer</title></head>
<body><main><h1>Sign in</h1>
{{if .Error}}<p role="alert">{{.Error}}</p>{{end}}
<form method="post" action="/auth">
{{range $k, $v := .Hidden}}<input type="hidden" name="{{$k}}" value="{{$v}}">{{end}}
<label for="username">Username</label> <input id="username" name="username" autocomplete="username" autofocus>
<button type="submit" id="sign-in">Sign in</button>
</form></main></body></html>`))

// authorize serves GET and POST /auth.
func (is *Issuer) authorize(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	p := r.Form
	if p.Get("response_type") != "code" || p.Get("client_id") == "" || p.Get("redirect_uri") == "" {
		http.Error(w, "response_type=code, client_id and redirect_uri are required", http.StatusBadRequest)
		return
	}
	if p.Get("code_challenge_method") != "S256" || p.Get("code_challenge") == "" {
		http.Error(w, "PKCE is required: code_challenge with code_challenge_method=S256", http.StatusBadRequest)
		return
	}
	hidden := map[string]string{}
	for _, k := range []string{"response_type", "client_id", "redirect_uri", "scope", "state", "nonce", "code_challenge", "code_challenge_method"} {
		hidden[k] = p.Get(k)
	}
	if r.Method == http.MethodGet {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_ = loginPage.Execute(w, map[string]any{"Hidden": hidden})
		return
	}
	is.flow.mu.Lock()
	claims, ok := is.flow.users[p.Get("username")]
	if !ok {
		is.flow.mu.Unlock()
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusUnauthorized)
		_ = loginPage.Execute(w, map[string]any{"Hidden": hidden, "Error": "Unknown username."})
		return
	}
	raw := make([]byte, 18)
	_, _ = rand.Read(raw) // crypto/rand does not fail on supported platforms
	code := base64.RawURLEncoding.EncodeToString(raw)
	if is.flow.codes == nil {
		is.flow.codes = map[string]grant{}
	}
	is.flow.codes[code] = grant{clientID: p.Get("client_id"), redirect: p.Get("redirect_uri"), challenge: p.Get("code_challenge"),
		nonce: p.Get("nonce"), claims: claims, expires: time.Now().Add(time.Minute)}
	is.flow.mu.Unlock()
	u, err := url.Parse(p.Get("redirect_uri"))
	if err != nil {
		http.Error(w, "bad redirect_uri", http.StatusBadRequest)
		return
	}
	q := u.Query()
	q.Set("code", code)
	q.Set("state", p.Get("state"))
	u.RawQuery = q.Encode()
	http.Redirect(w, r, u.String(), http.StatusFound)
}

// token serves POST /token (grant_type=authorization_code).
func (is *Issuer) token(w http.ResponseWriter, r *http.Request, tb testing.TB) {
	fail := func(code, desc string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": desc})
	}
	if r.Method != http.MethodPost || r.ParseForm() != nil || r.PostForm.Get("grant_type") != "authorization_code" {
		fail("unsupported_grant_type", "POST grant_type=authorization_code")
		return
	}
	clientID := r.PostForm.Get("client_id")
	if u, _, ok := r.BasicAuth(); ok {
		clientID = u
	}
	code := r.PostForm.Get("code")
	is.flow.mu.Lock()
	g, ok := is.flow.codes[code]
	delete(is.flow.codes, code) // one use, whatever the outcome
	is.flow.mu.Unlock()
	switch {
	case !ok || time.Now().After(g.expires):
		fail("invalid_grant", "unknown, used or expired code")
		return
	case g.clientID != clientID || g.redirect != r.PostForm.Get("redirect_uri"):
		fail("invalid_grant", "the code was issued to another client or redirect_uri")
		return
	}
	sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
	if base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge {
		fail("invalid_grant", "PKCE verification failed (code_verifier)")
		return
	}
	claims := maps.Clone(g.claims)
	claims["aud"] = g.clientID
	if g.nonce != "" {
		claims["nonce"] = g.nonce
	}
	id := is.Token(tb, claims)
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"access_token": id, "id_token": id, "token_type": "Bearer", "expires_in": 3600})
}

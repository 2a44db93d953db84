package console

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
)

// cookieName holds the session id; the session itself stays on the server.
const cookieName = "verdict_console"

// maxSessions bounds the sessions kept: past it the oldest one goes.
const maxSessions = 10000

// session is a signed-in admin.
type session struct {
	id       string
	Subject  string // the admin's user id (the token's sub)
	Username string
	Org      string
	CSRF     string // the token every form must carry
	expires  time.Time
}

type sessions struct {
	mu  sync.Mutex
	ttl time.Duration
	m   map[string]*session
}

func newSessions(ttl time.Duration) *sessions {
	return &sessions{ttl: ttl, m: map[string]*session{}}
}

func randomString(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func (s *sessions) create(subject, username, org string) *session {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	for id, x := range s.m {
		if now.After(x.expires) {
			delete(s.m, id)
		}
	}
	if len(s.m) >= maxSessions {
		var oldest *session
		for _, x := range s.m {
			if oldest == nil || x.expires.Before(oldest.expires) {
				oldest = x
			}
		}
		delete(s.m, oldest.id)
	}
	x := &session{id: randomString(32), Subject: subject, Username: username, Org: org, CSRF: randomString(32), expires: now.Add(s.ttl)}
	s.m[x.id] = x
	return x
}

func (s *sessions) get(id string) *session {
	s.mu.Lock()
	defer s.mu.Unlock()
	x := s.m[id]
	if x == nil || time.Now().After(x.expires) {
		delete(s.m, id)
		return nil
	}
	return x
}

func (s *sessions) drop(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, id)
}

// setCookie: HttpOnly, SameSite=Lax, Secure under TLS.
func setCookie(c *gin.Context, name, value string, maxAge int) {
	http.SetCookie(c.Writer, &http.Cookie{Name: name, Value: value, Path: "/console/", MaxAge: maxAge,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: c.Request.TLS != nil})
}

const sessionKey = "console.session"

// signedIn finds the session, or opens one in dev mode, or sends the browser
// to sign in.
func (con *Console) signedIn(c *gin.Context) {
	if ck, err := c.Cookie(cookieName); err == nil {
		if s := con.sess.get(ck); s != nil {
			c.Set(sessionKey, s)
			c.Next()
			return
		}
	}
	if con.cfg.Dev {
		name := con.cfg.DevSubject
		if u, err := con.dom.GetUser(c.Request.Context(), con.cfg.DevOrg, name); err == nil {
			name = u.Username
		}
		s := con.sess.create(con.cfg.DevSubject, name, con.cfg.DevOrg)
		setCookie(c, cookieName, s.id, 0)
		c.Set(sessionKey, s)
		c.Next()
		return
	}
	if c.Request.Method != http.MethodGet {
		c.AbortWithStatus(http.StatusUnauthorized)
		return
	}
	c.Redirect(http.StatusFound, "/console/login")
	c.Abort()
}

func sessionOf(c *gin.Context) *session {
	v, _ := c.Get(sessionKey)
	s, _ := v.(*session)
	return s
}

// csrf refuses a form without the session's token: another site cannot
// read it, so it cannot make a signed-in admin's browser write.
func (con *Console) csrf(c *gin.Context) {
	if c.Request.Method == http.MethodGet || c.Request.Method == http.MethodHead {
		c.Next()
		return
	}
	s := sessionOf(c)
	got := c.PostForm("csrf")
	if s == nil || subtle.ConstantTimeCompare([]byte(got), []byte(s.CSRF)) != 1 {
		c.String(http.StatusForbidden, "This form has expired or did not come from the console (CSRF check). Go back, reload the page and try again.")
		c.Abort()
		return
	}
	c.Next()
}

func (con *Console) logout(c *gin.Context) {
	if s := sessionOf(c); s != nil {
		con.sess.drop(s.id)
	}
	setCookie(c, cookieName, "", -1)
	c.Header("Cache-Control", "no-store")
	again := `<p><a id="sign-in-again" href="/console/login">Sign in again</a></p>`
	if con.cfg.Dev {
		again = `<p>This is a development server: <a id="sign-in-again" href="/console/">opening the console</a> signs you in as the demo org's admin again.</p>`
	}
	c.Data(http.StatusOK, "text/html; charset=utf-8", []byte(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Signed out · Verdict access console</title>`+
		`<link rel="stylesheet" href="/console/static/console.css"></head><body><main id="main"><h1 id="signed-out">You are signed out</h1>`+again+`</main></body></html>`))
}

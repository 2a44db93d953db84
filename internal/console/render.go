package console

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/verdict-pdp/verdict/internal/authzen"
	"github.com/verdict-pdp/verdict/internal/store"
	"github.com/verdict-pdp/verdict/internal/verr"
)

// page is what every template gets.
type page struct {
	Title   string
	Nav     string // the section highlighted in the navigation
	S       *session
	Dev     bool
	OK      string // the last write's result (after a redirect)
	Error   string // the last write's refusal (after a redirect)
	CSRF    string
	Data    any
	Request *http.Request
}

var funcs = template.FuncMap{
	"join": strings.Join,
	"attrs": func(a map[string][]string) string {
		keys := make([]string, 0, len(a))
		for k := range a {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var parts []string
		for _, k := range keys {
			parts = append(parts, k+": "+strings.Join(a[k], ", "))
		}
		return strings.Join(parts, "; ")
	},
	"pathEscape": url.PathEscape,
	"prefixed":   func(p string, d any) map[string]any { return map[string]any{"P": p, "D": d} },
	"contains": func(xs []string, x string) bool {
		for _, y := range xs {
			if y == x {
				return true
			}
		}
		return false
	},
}

// parseTemplates parses each page with the layout and the shared parts.
func parseTemplates() (map[string]*template.Template, error) {
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	out := map[string]*template.Template{}
	for _, n := range names {
		base := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if base == "layout" || strings.HasPrefix(base, "_") {
			continue
		}
		t, err := template.New(base).Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/_*.html", n)
		if err != nil {
			return nil, fmt.Errorf("console template %s: %w", n, err)
		}
		out[base] = t
	}
	return out, nil
}

// render writes a page; a template error is the console's fault (500) and
// nothing half-rendered is sent.
func (con *Console) render(c *gin.Context, status int, name, title, nav string, data any) {
	s := sessionOf(c)
	p := page{Title: title, Nav: nav, S: s, Dev: con.cfg.Dev, OK: c.Query("ok"), Error: c.Query("error"), Data: data, Request: c.Request}
	if s != nil {
		p.CSRF = s.CSRF
	}
	var b bytes.Buffer
	if err := con.tmpl[name].ExecuteTemplate(&b, "layout", p); err != nil {
		con.cfg.Log.Error("console: rendering failed", "page", name, "err", err)
		c.String(http.StatusInternalServerError, "the console could not render this page")
		return
	}
	c.Header("Cache-Control", "no-store")
	c.Data(status, "text/html; charset=utf-8", b.Bytes())
}

// fail shows an error page for a read that could not be made.
func (con *Console) fail(c *gin.Context, err error) {
	e := verr.As(err)
	con.render(c, verr.HTTPStatus(e), "error", "Error", "", e)
}

// back redirects after a write, to target with the outcome in the query
// (POST, redirect, GET: a reload never writes twice).
func back(c *gin.Context, target string, err error, ok string) {
	q := url.Values{}
	if err != nil {
		e := verr.As(err)
		msg := e.Message
		if e.Field != "" {
			msg = e.Field + ": " + msg
		}
		if len(e.Allowed) > 0 {
			msg += " (allowed: " + strings.Join(e.Allowed, ", ") + ")"
		}
		q.Set("error", msg)
	} else {
		q.Set("ok", ok)
	}
	sep := "?"
	if strings.Contains(target, "?") {
		sep = "&"
	}
	c.Redirect(http.StatusSeeOther, target+sep+q.Encode())
}

// check asks the decision engine whether the signed-in admin may take
// action on a resource of their org (rule 10 for org resources, rule 9 for
// projects): the same question the admin API asks.
func (con *Console) check(c *gin.Context, typ, id, action string) error {
	s := sessionOf(c)
	if typ == "org" {
		id = s.Org
	}
	req := &authzen.Request{
		Subject:  &authzen.Entity{Type: "user", ID: s.Subject},
		Action:   &authzen.Action{Name: action},
		Resource: &authzen.Entity{Type: typ, ID: id},
		Context:  map[string]any{"org": s.Org},
	}
	d, err := con.cfg.PDP.Evaluate(c.Request.Context(), req, nil)
	if err != nil {
		return verr.Wrap(verr.Forbidden, "", err, "your permissions could not be checked: %v", err)
	}
	if !d.Decision {
		reason, _ := d.Context["reason"].(string)
		return verr.New(verr.Forbidden, "", "%s may not %s on %s %s (%s): this needs an Organization Admin or Owner, or the project role that gives it", s.Username, action, typ, id, reason)
	}
	return nil
}

// actor is who writes, for the audit.
func actor(c *gin.Context) storeActor {
	s := sessionOf(c)
	return storeActor{Subject: s.Subject, Justification: "access console"}
}

type storeActor = store.Actor

package serve

import (
	"log/slog"
	"net/http"
	"os"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/verdict-pdp/verdict/internal/console"
	"github.com/verdict-pdp/verdict/internal/orgdoc"
	"github.com/verdict-pdp/verdict/internal/pdp"
	"github.com/verdict-pdp/verdict/internal/store"
)

// withConsole serves the access console at /console/ beside the API handler
// api: sign-in through the OIDC issuer (the client id is the audience unless
// --console-client-id says otherwise), or, in dev mode, signed in as the
// demo org's admin.
func withConsole(api http.Handler, cfg *Config, st *store.Store, svc *pdp.Service, invalidate func(string), devAdmin string, log *slog.Logger) (http.Handler, gin.RoutesInfo, error) {
	if !cfg.Dev && cfg.Auth != "oidc" {
		log.Warn("the access console is off: it needs OIDC sign-in (or --dev)")
		return api, nil, nil
	}
	r := gin.New()
	r.Use(gin.Recovery())
	cc := console.Config{Store: st, PDP: svc, Invalidate: invalidate, Log: log,
		IssuerURL: cfg.OIDCIssuer, ClientID: cfg.ConsoleClientID, ClientSecret: os.Getenv("VERDICT_CONSOLE_CLIENT_SECRET")}
	if cc.ClientID == "" {
		cc.ClientID = cfg.OIDCAudience
	}
	if cfg.Dev {
		cc.Dev, cc.DevOrg, cc.DevSubject = true, cfg.DefaultOrg, devAdmin
	}
	if err := console.Register(r, cc); err != nil {
		return nil, nil, err
	}
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.URL.Path == "/console" || strings.HasPrefix(req.URL.Path, "/console/") {
			r.ServeHTTP(w, req)
			return
		}
		api.ServeHTTP(w, req)
	}), r.Routes(), nil
}

// orgAdmin is a user of o with org_admin or org_owner on the org: who the
// dev console signs in as.
func orgAdmin(o *orgdoc.Org) string {
	for _, dr := range o.DesignerRoles {
		if dr.Subject.User != "" && dr.Scope.Org && (dr.Role == "org_admin" || dr.Role == "org_owner") {
			return dr.Subject.User
		}
	}
	return ""
}

package serve

import (
	"log/slog"

	"github.com/gin-gonic/gin"

	"github.com/verdict-pdp/verdict/internal/authn"
	"github.com/verdict-pdp/verdict/internal/pdp"
	"github.com/verdict-pdp/verdict/internal/store"
)

// adminRoutes returns the admin API registration, or nil while the admin
// API is not built in.
func adminRoutes(st *store.Store, svc *pdp.Service, v *authn.Verifier, cfg *Config, log *slog.Logger) func(gin.IRouter) {
	return nil
}

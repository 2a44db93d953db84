package serve

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/verdict-pdp/verdict/internal/bundle"
)

// Routes lists every route the server answers, method and path in Gin's
// syntax: the API's, the console's (when on) and the bundle route mounted
// in front of them. internal/openapi's route test holds the API
// description to it.
func (s *Server) Routes() gin.RoutesInfo { return s.routes }

// bundleRoutes are the routes bundle.Mount serves (not a Gin router: a
// path prefix in front of the API handler).
func bundleRoutes() gin.RoutesInfo {
	return gin.RoutesInfo{{Method: http.MethodGet, Path: bundle.Route}, {Method: http.MethodHead, Path: bundle.Route}}
}

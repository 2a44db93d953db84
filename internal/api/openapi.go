package api

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// openAPI serves the server's own API description (internal/openapi) at
// /openapi.json, when Deps.OpenAPI holds one.
func (s *Server) openAPI(r gin.IRoutes) {
	doc := s.OpenAPI
	if doc == nil {
		return
	}
	r.GET("/openapi.json", func(c *gin.Context) {
		c.Data(http.StatusOK, "application/json; charset=utf-8", doc)
	})
}

// Routes lists the routes of a handler New returned (method and path in
// Gin's syntax): what the API description's route test compares with it.
func Routes(h http.Handler) gin.RoutesInfo {
	if e, ok := h.(*gin.Engine); ok {
		return e.Routes()
	}
	return nil
}

package frontdoor

import (
	"encoding/json"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/verdict-pdp/verdict/internal/verr"
)

// errorBody is the one error shape of every endpoint:
// {"error": {"code", "field"?, "message", "allowed"?}}.
type errorBody struct {
	Error *verr.Error `json:"error"`
}

// WriteError answers err as JSON with the status its code maps to.
func WriteError(w http.ResponseWriter, err error) {
	e := verr.As(err)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(verr.HTTPStatus(e))
	b, merr := json.Marshal(errorBody{Error: e})
	if merr != nil { // a verr.Error always marshals; keep the status anyway
		return
	}
	_, _ = w.Write(b)
}

// Abort answers err on a Gin request and stops its handler chain.
func Abort(c *gin.Context, err error) {
	e := verr.As(err)
	c.AbortWithStatusJSON(verr.HTTPStatus(e), errorBody{Error: e})
}

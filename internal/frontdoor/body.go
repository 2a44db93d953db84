package frontdoor

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/verdict-pdp/verdict/internal/verr"
)

// DefaultMaxBody bounds a request body unless an endpoint says otherwise.
const DefaultMaxBody = 1 << 20

// ReadBody reads r's body, at most limit bytes, and returns it (nil for no
// body). A body must be JSON: a Content-Type other than application/json
// (charset utf-8 when one is given) is refused before anything is read,
// and so is a body sent without one. That is also what keeps a web page
// from writing to a server without a CORS preflight: a browser sends
// text/plain and form bodies freely, never application/json.
func ReadBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	if limit <= 0 {
		limit = DefaultMaxBody
	}
	if err := CheckContentType(r); err != nil {
		return nil, err
	}
	if !hasBody(r) {
		return nil, nil
	}
	if r.ContentLength > limit {
		return nil, tooLarge(limit)
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var big *http.MaxBytesError
		if errors.As(err, &big) {
			return nil, tooLarge(limit)
		}
		return nil, verr.Wrap(verr.InvalidInput, "", err, "reading the body: %v", err)
	}
	return b, nil
}

// CheckContentType refuses a request that carries a body other than JSON,
// for endpoints that read their body later (or not at all). A request
// without a body (GET, an empty DELETE) passes whatever its headers say.
func CheckContentType(r *http.Request) error {
	if !hasBody(r) {
		return nil
	}
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return verr.New(verr.UnsupportedMediaType, "Content-Type", "a body must be sent as application/json")
	}
	return checkContentType(ct)
}

// hasBody reports whether r may carry a body: a server gives a request
// whose Content-Length is 0 http.NoBody; an unknown length (chunked) is a
// body.
func hasBody(r *http.Request) bool {
	return r.Body != nil && r.Body != http.NoBody && r.ContentLength != 0
}

func checkContentType(ct string) error {
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil || mt != "application/json" {
		return verr.New(verr.UnsupportedMediaType, "Content-Type", "must be application/json, not %q", ct)
	}
	for k, v := range params {
		if k != "charset" || !strings.EqualFold(v, "utf-8") {
			return verr.New(verr.UnsupportedMediaType, "Content-Type", "application/json takes no parameter but charset=utf-8, not %q", ct)
		}
	}
	return nil
}

func tooLarge(limit int64) error {
	return verr.New(verr.TooLarge, "", "request body larger than %d bytes", limit)
}

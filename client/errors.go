package client

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Error codes of the PDP's error answers ({"error": {"code", ...}}); stable:
// switch on them.
const (
	CodeInvalidInput         = "invalid_input"          // 400: malformed request; Field names the member
	CodeInvalid              = "invalid"                // 422
	CodeUnauthenticated      = "unauthenticated"        // 401: no, or an invalid, bearer or subject token
	CodeForbidden            = "forbidden"              // 403: another org than the token's
	CodeNotFound             = "not_found"              // 404: no such filter, route
	CodeTooLarge             = "too_large"              // 413
	CodeUnsupportedMediaType = "unsupported_media_type" // 415
	CodeUnavailable          = "unavailable"            // 503
	CodeInternal             = "internal"               // 500
)

// Error is a call the PDP answered with an error status. Code, Field,
// Message and Allowed are the server's error body; Code is "" when the body
// was not Verdict's error shape (a proxy's page: Body holds its start).
type Error struct {
	StatusCode int
	Code       string
	Field      string
	Message    string
	Allowed    []string
	Detail     map[string]string
	// Body is the start of an answer that is not Verdict's error shape.
	Body string
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "verdict: HTTP %d", e.StatusCode)
	if e.Code != "" {
		b.WriteString(": " + e.Code)
	}
	if e.Field != "" {
		b.WriteString(": " + e.Field)
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	if e.Code == "" && e.Body != "" {
		b.WriteString(": " + e.Body)
	}
	return b.String()
}

// errorFrom reads an error answer.
func errorFrom(status int, body []byte) *Error {
	e := &Error{StatusCode: status}
	var wire struct {
		Error *struct {
			Code    string            `json:"code"`
			Field   string            `json:"field"`
			Message string            `json:"message"`
			Allowed []string          `json:"allowed"`
			Detail  map[string]string `json:"detail"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &wire) == nil && wire.Error != nil && wire.Error.Code != "" {
		w := wire.Error
		e.Code, e.Field, e.Message, e.Allowed, e.Detail = w.Code, w.Field, w.Message, w.Allowed, w.Detail
		return e
	}
	s := strings.TrimSpace(string(body))
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	e.Body = s
	return e
}

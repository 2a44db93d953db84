// Package verr is Verdict's one error type: a stable string code, the field at
// fault (a JSON path such as "orgs[0].groups[2].name" or a request field), and a
// message for people. Every package returns *verr.Error for failures a caller can
// act on; HTTPStatus maps codes to HTTP statuses in one place so the API layer
// never guesses.
//
// Values are immutable after construction and safe to share between goroutines.
package verr

import (
	"errors"
	"fmt"
	"net/http"
)

// Code is a stable, documented error code. Clients may switch on it; never
// rename one.
type Code string

const (
	// InvalidInput: the request or document is malformed (bad JSON, wrong type,
	// unknown field, missing field).
	InvalidInput Code = "invalid_input"
	// Invalid: well-formed but refused by a rule (dangling reference, name rule,
	// duplicate priority, role outside the build's catalog).
	Invalid Code = "invalid"
	// NotFound: the named record does not exist.
	NotFound Code = "not_found"
	// Conflict: the write collides with existing state (already exists, immutable).
	Conflict Code = "conflict"
	// PreconditionFailed: If-Match did not match the current ETag.
	PreconditionFailed Code = "precondition_failed"
	// Unauthenticated: no or invalid credentials.
	Unauthenticated Code = "unauthenticated"
	// Forbidden: authenticated but not allowed (including another org's data).
	Forbidden Code = "forbidden"
	// PolicyError: the policies failed to compile or evaluate.
	PolicyError Code = "policy_error"
	// Unavailable: a dependency (Redis) cannot be reached; the PDP fails closed.
	Unavailable Code = "unavailable"
	// FactsInvalid: a stored record that a decision needs does not decode;
	// the PDP denies and names the record (Detail: key, field, path).
	FactsInvalid Code = "facts_invalid"
	// TooLarge: the request body is larger than the endpoint accepts.
	TooLarge Code = "too_large"
	// UnsupportedMediaType: a request body that is not JSON
	// (Content-Type other than application/json).
	UnsupportedMediaType Code = "unsupported_media_type"
	// MethodNotAllowed: the path exists, not for this HTTP method.
	MethodNotAllowed Code = "method_not_allowed"
	// Internal: a bug. Never expected.
	Internal Code = "internal"
)

// Error is the one error type of Verdict.
type Error struct {
	Code    Code   `json:"code"`
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
	// Allowed lists acceptable values when that helps the caller fix the
	// request (for example the roles a build's catalog allows).
	Allowed []string `json:"allowed,omitempty"`
	// Detail names what the error is about when a field is not enough (for
	// facts_invalid: the Redis key, the hash field and the JSON path).
	Detail map[string]string `json:"detail,omitempty"`
	cause  error
}

func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%s: %s: %s", e.Code, e.Field, e.Message)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

// Unwrap returns the underlying cause, if any.
func (e *Error) Unwrap() error { return e.cause }

// New returns an error with a code, the field at fault and a formatted message.
func New(code Code, field, format string, args ...any) *Error {
	return &Error{Code: code, Field: field, Message: fmt.Sprintf(format, args...)}
}

// Wrap returns an error with a code that keeps cause for errors.Is/As.
func Wrap(code Code, field string, cause error, format string, args ...any) *Error {
	return &Error{Code: code, Field: field, Message: fmt.Sprintf(format, args...), cause: cause}
}

// As returns err as *Error, wrapping unknown errors as Internal.
func As(err error) *Error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Code: Internal, Message: err.Error(), cause: err}
}

// CodeOf returns the code of err ("" for nil).
func CodeOf(err error) Code {
	if err == nil {
		return ""
	}
	return As(err).Code
}

// HTTPStatus maps an error to the HTTP status that fits it.
func HTTPStatus(err error) int {
	switch CodeOf(err) {
	case "":
		return http.StatusOK
	case InvalidInput:
		return http.StatusBadRequest
	case Invalid:
		return http.StatusUnprocessableEntity
	case NotFound:
		return http.StatusNotFound
	case Conflict:
		return http.StatusConflict
	case PreconditionFailed:
		return http.StatusPreconditionFailed
	case Unauthenticated:
		return http.StatusUnauthorized
	case Forbidden:
		return http.StatusForbidden
	case Unavailable:
		return http.StatusServiceUnavailable
	case TooLarge:
		return http.StatusRequestEntityTooLarge
	case UnsupportedMediaType:
		return http.StatusUnsupportedMediaType
	case MethodNotAllowed:
		return http.StatusMethodNotAllowed
	default:
		return http.StatusInternalServerError
	}
}

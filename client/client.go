package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// maxAnswer bounds an answer read into memory (a manifest of a large build,
// a page of 1000 search results, a batch of 1000 explained decisions).
const maxAnswer = 32 << 20

// Client calls a PDP. Make one with New and share it.
type Client struct {
	cfg  Config
	http *http.Client
}

// New returns a client for the PDP at cfg.BaseURL.
func New(cfg Config) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	hc := cfg.HTTPClient
	if hc == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.TLSClientConfig = cfg.TLS
		t.MaxConnsPerHost = cfg.MaxConns
		t.MaxIdleConnsPerHost = cfg.MaxConns
		t.MaxIdleConns = cfg.MaxConns
		hc = &http.Client{Transport: t}
	}
	return &Client{cfg: cfg, http: hc}, nil
}

// BaseURL is the PDP's base URL, without a trailing slash.
func (c *Client) BaseURL() string { return c.cfg.BaseURL }

// Evaluate asks one AuthZEN access evaluation (POST /access/v1/evaluation).
func (c *Client) Evaluate(ctx context.Context, r EvaluationRequest) (Decision, error) {
	var d Decision
	err := c.Post(ctx, "/access/v1/evaluation", r, &d)
	return d, err
}

// Evaluations asks a batch (POST /access/v1/evaluations). A batch without
// items is one evaluation of its defaults, answered as a batch of one.
func (c *Client) Evaluations(ctx context.Context, r EvaluationsRequest) (EvaluationsResponse, error) {
	// The server answers a batch without items as a single evaluation.
	var out struct {
		Evaluations []Decision     `json:"evaluations"`
		Decision    *bool          `json:"decision"`
		Context     map[string]any `json:"context"`
	}
	if err := c.Post(ctx, "/access/v1/evaluations", r, &out); err != nil {
		return EvaluationsResponse{}, err
	}
	if out.Evaluations == nil && out.Decision != nil {
		out.Evaluations = []Decision{{Decision: *out.Decision, Context: out.Context}}
	}
	return EvaluationsResponse{Evaluations: out.Evaluations}, nil
}

// SearchSubjects asks which subjects of r.Subject.Type may do the action on
// the resource (POST /access/v1/search/subject), one page.
func (c *Client) SearchSubjects(ctx context.Context, r SearchRequest) (SubjectSearchResponse, error) {
	var out SubjectSearchResponse
	err := c.Post(ctx, "/access/v1/search/subject", r, &out)
	return out, err
}

// SearchResources asks which resources of r.Resource.Type the subject may
// act on (POST /access/v1/search/resource), one page.
func (c *Client) SearchResources(ctx context.Context, r SearchRequest) (ResourceSearchResponse, error) {
	var out ResourceSearchResponse
	err := c.Post(ctx, "/access/v1/search/resource", r, &out)
	return out, err
}

// SearchActions asks what the subject may do to the resource (POST
// /access/v1/search/action), one page.
func (c *Client) SearchActions(ctx context.Context, r SearchRequest) (ActionSearchResponse, error) {
	var out ActionSearchResponse
	err := c.Post(ctx, "/access/v1/search/action", r, &out)
	return out, err
}

// Filter asks a business filter's condition for a user (POST
// /v1/filters/{id}). An unknown filter is an *Error with CodeNotFound.
func (c *Client) Filter(ctx context.Context, id string, r FilterRequest) (Filter, error) {
	var out Filter
	err := c.Post(ctx, "/v1/filters/"+url.PathEscape(id), r, &out)
	return out, err
}

// Manifest asks the permission manifest of a user in a solution and
// environment (POST /v1/manifest).
func (c *Client) Manifest(ctx context.Context, r ManifestRequest) (Manifest, error) {
	var out Manifest
	err := c.Post(ctx, "/v1/manifest", r, &out)
	return out, err
}

// DataResponse is OPA's data API answer: Result is absent (nil) when the
// path names nothing; DecisionID is set when the PDP logs or traces
// decisions (as OPA does).
type DataResponse struct {
	Result     json.RawMessage `json:"result,omitempty"`
	DecisionID string          `json:"decision_id,omitempty"`
}

// Data evaluates a policy path through OPA's data API (POST
// /v1/data/{path}, {"input": input}), for code written against OPA:
// "verdict/main/decision" is the decision of Evaluate.
func (c *Client) Data(ctx context.Context, path string, input any) (DataResponse, error) {
	var out DataResponse
	err := c.Post(ctx, "/v1/data/"+strings.Trim(path, "/"), map[string]any{"input": input}, &out)
	return out, err
}

// Post sends body to the PDP's path and decodes the answer into out, with
// the client's sign-in, timeouts, retries and errors: the calls above are
// made of it, and it reaches what they do not cover. A json.RawMessage or
// []byte body is sent as is (already encoded), anything else is encoded as
// JSON; out may be nil (the answer is discarded), a *json.RawMessage (kept
// undecoded, checked to be JSON) or a *[]byte (the answer's bytes as they
// came, unchecked: for a load generator that reads them itself).
func (c *Client) Post(ctx context.Context, path string, body, out any) error {
	var raw []byte
	switch b := body.(type) {
	case json.RawMessage:
		raw = b
	case []byte:
		raw = b
	default:
		var err error
		if raw, err = json.Marshal(body); err != nil {
			return fmt.Errorf("client: encoding the request: %w", err)
		}
	}
	answer, err := c.post(ctx, path, raw)
	if err != nil {
		return err
	}
	switch o := out.(type) {
	case nil:
		return nil
	case *[]byte:
		*o = answer
		return nil
	}
	if err := json.Unmarshal(answer, out); err != nil {
		return fmt.Errorf("client: POST %s: the answer does not decode: %w", path, err)
	}
	return nil
}

// post sends one request, trying again as Config says.
func (c *Client) post(ctx context.Context, path string, body []byte) ([]byte, error) {
	for attempt := 0; ; attempt++ {
		answer, wait, err := c.attempt(ctx, path, body)
		if err == nil {
			return answer, nil
		}
		if wait < 0 || attempt >= c.cfg.Retries {
			return nil, err
		}
		if wait == 0 {
			wait = c.backoff(attempt)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, err
		case <-t.C:
		}
	}
}

// attempt makes one try. wait says whether to retry: negative no, zero
// after a backoff, positive after that long (Retry-After).
func (c *Client) attempt(ctx context.Context, path string, body []byte) (answer []byte, wait time.Duration, err error) {
	if err := ctx.Err(); err != nil {
		return nil, -1, err
	}
	actx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(actx, http.MethodPost, c.cfg.BaseURL+path, bytes.NewReader(body))
	if err != nil {
		return nil, -1, fmt.Errorf("client: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.cfg.UserAgent)
	if c.cfg.Tokens != nil {
		tok, err := c.cfg.Tokens.Token(ctx)
		if err != nil {
			return nil, -1, fmt.Errorf("client: bearer token: %w", err)
		}
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
	}
	resp, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, -1, err // the caller gave up: no retry
		}
		return nil, 0, err // a network failure or this attempt's timeout
	}
	defer resp.Body.Close()
	answer, err = io.ReadAll(io.LimitReader(resp.Body, maxAnswer+1))
	if err != nil {
		if ctx.Err() != nil {
			return nil, -1, err
		}
		return nil, 0, err
	}
	if len(answer) > maxAnswer {
		return nil, -1, fmt.Errorf("client: POST %s: the answer is larger than %d bytes", path, maxAnswer)
	}
	if resp.StatusCode == http.StatusOK {
		return answer, 0, nil
	}
	e := errorFrom(resp.StatusCode, answer)
	switch resp.StatusCode {
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		wait, ok := retryAfter(resp.Header.Get("Retry-After"))
		if !ok {
			return nil, 0, e
		}
		if wait > c.cfg.MaxRetryAfter {
			return nil, -1, e // longer than the caller agreed to wait
		}
		return nil, max(wait, time.Nanosecond), e
	}
	// Anything else (400, 401, 403, 404, 500: a refusal, a bug, a policy
	// error) answers the same when asked again.
	return nil, -1, e
}

// backoff is the wait before retry attempt+1: exponential, full jitter.
func (c *Client) backoff(attempt int) time.Duration {
	d := c.cfg.MaxBackoff
	if attempt < 30 {
		d = min(c.cfg.MinBackoff<<attempt, c.cfg.MaxBackoff)
	}
	return c.cfg.MinBackoff/2 + rand.N(d-c.cfg.MinBackoff/2+1)
}

// retryAfter reads a Retry-After header: seconds or an HTTP date.
func retryAfter(h string) (time.Duration, bool) {
	if h == "" {
		return 0, false
	}
	if s, err := strconv.Atoi(strings.TrimSpace(h)); err == nil && s >= 0 {
		return time.Duration(s) * time.Second, true
	}
	if t, err := http.ParseTime(h); err == nil {
		return max(time.Until(t), 0), true
	}
	return 0, false
}

// IsCode reports whether err is an *Error with the given code.
func IsCode(err error, code string) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == code
}

package conformance

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/verdict-pdp/verdict/internal/decision"
	"github.com/verdict-pdp/verdict/internal/orgdoc"
)

// Remote decides over HTTP against a running PDP (verdict serve or edge).
type Remote struct {
	BaseURL string
	// Token, when set, is sent as the caller's bearer token.
	Token  string
	Client *http.Client
}

// NewRemote returns a Decider for the PDP at baseURL.
func NewRemote(baseURL, token string) *Remote {
	return &Remote{BaseURL: strings.TrimRight(baseURL, "/"), Token: token, Client: &http.Client{Timeout: 30 * time.Second}}
}

// Evaluate implements Decider with POST /access/v1/evaluation.
func (r *Remote) Evaluate(ctx context.Context, raw json.RawMessage) (decision.Decision, error) {
	var d decision.Decision
	err := r.post(ctx, "/access/v1/evaluation", raw, &d)
	return d, err
}

// Filter implements Decider with POST /v1/filters/{id}.
func (r *Remote) Filter(ctx context.Context, f orgdoc.FilterRequest) (decision.Filter, error) {
	body, _ := json.Marshal(map[string]string{"org": f.Org, "user": f.User})
	var out decision.Filter
	err := r.post(ctx, "/v1/filters/"+url.PathEscape(f.Filter), body, &out)
	return out, err
}

func (r *Remote) post(ctx context.Context, path string, body []byte, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.BaseURL+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if r.Token != "" {
		req.Header.Set("Authorization", "Bearer "+r.Token)
	}
	resp, err := r.Client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("HTTP %d: %s", resp.StatusCode, strings.TrimSpace(string(b)))
	}
	return json.Unmarshal(b, out)
}

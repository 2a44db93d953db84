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
	"sync"
	"time"

	"github.com/verdict-pdp/verdict/internal/decision"
	"github.com/verdict-pdp/verdict/internal/orgdoc"
)

// Remote decides over HTTP against a running PDP (verdict serve or edge).
// It counts its answers per org (OrgTally), so that a caller can say when
// the server does not know an org instead of leaving the user with a list
// of unknown_org failures. Safe for concurrent use.
type Remote struct {
	BaseURL string
	// Token, when set, is sent as the caller's bearer token.
	Token  string
	Client *http.Client

	mu    sync.Mutex
	tally OrgTally
}

// NewRemote returns a Decider for the PDP at baseURL.
func NewRemote(baseURL, token string) *Remote {
	return &Remote{BaseURL: strings.TrimRight(baseURL, "/"), Token: token, Client: &http.Client{Timeout: 30 * time.Second}}
}

// Evaluate implements Decider with POST /access/v1/evaluation.
func (r *Remote) Evaluate(ctx context.Context, raw json.RawMessage) (decision.Decision, error) {
	var d decision.Decision
	err := r.post(ctx, "/access/v1/evaluation", raw, &d)
	if err == nil {
		r.mu.Lock()
		if r.tally == nil {
			r.tally = OrgTally{}
		}
		r.tally.Add(RequestOrg(raw), d)
		r.mu.Unlock()
	}
	return d, err
}

// Tally returns a copy of the answers counted so far, per org.
func (r *Remote) Tally() OrgTally {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := OrgTally{}
	for k, v := range r.tally {
		out[k] = v
	}
	return out
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

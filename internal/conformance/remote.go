package conformance

import (
	"context"
	"encoding/json"
	"sync"
	"time"

	"github.com/verdict-pdp/verdict/client"
	"github.com/verdict-pdp/verdict/internal/decision"
	"github.com/verdict-pdp/verdict/internal/orgdoc"
)

// Remote decides over HTTP against a running PDP (verdict serve or edge),
// through the public Go client (package client): its retries, timeouts and
// errors. It counts its answers per org (OrgTally), so that a caller can say
// when the server does not know an org instead of leaving the user with a
// list of unknown_org failures. Safe for concurrent use.
type Remote struct {
	c   *client.Client
	err error // a configuration the client refused: every call returns it

	mu    sync.Mutex
	tally OrgTally
}

// NewRemote returns a Decider for the PDP at baseURL; token, when set, is
// sent as the caller's bearer token. A base URL the client refuses makes
// every call fail with that error (Err says so at once).
func NewRemote(baseURL, token string) *Remote {
	cfg := client.Config{BaseURL: baseURL}
	if token != "" {
		cfg.Tokens = client.StaticToken(token)
	}
	return NewRemoteWith(cfg)
}

// NewRemoteWith is NewRemote with the client configured by cfg (TLS, mutual
// TLS, a token source); its Timeout defaults to 30s, for explained answers
// of a slow PDP.
func NewRemoteWith(cfg client.Config) *Remote {
	if cfg.Timeout == 0 {
		cfg.Timeout = 30 * time.Second
	}
	c, err := client.New(cfg)
	return &Remote{c: c, err: err}
}

// Err is the error of a configuration the client refused (a base URL that
// is not http:// or https://), else nil.
func (r *Remote) Err() error { return r.err }

// Evaluate implements Decider with POST /access/v1/evaluation.
func (r *Remote) Evaluate(ctx context.Context, raw json.RawMessage) (decision.Decision, error) {
	var d decision.Decision
	if r.err != nil {
		return d, r.err
	}
	err := r.c.Post(ctx, "/access/v1/evaluation", raw, &d)
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
	if r.err != nil {
		return decision.Filter{}, r.err
	}
	// The corpus names the org and user as they are (an empty org: the
	// server's default), so the body is sent with both members.
	body, err := json.Marshal(map[string]string{"org": f.Org, "user": f.User})
	if err != nil {
		return decision.Filter{}, err
	}
	var out decision.Filter
	err = r.c.Post(ctx, "/v1/filters/"+pathEscape(f.Filter), json.RawMessage(body), &out)
	return out, err
}

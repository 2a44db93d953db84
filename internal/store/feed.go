package store

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/verdict-pdp/verdict/internal/verr"
)

// Change is one entry of an org's change feed: what a write touched, with
// the org revision it produced. Decision caches drop what a change names.
type Change struct {
	Org      string   `json:"org"`
	Revision int64    `json:"revision"`
	Kind     string   `json:"kind"`               // e.g. "org.replaced", "share.put", "role.deleted"
	Users    []string `json:"users,omitempty"`    // user ids whose facts changed
	Groups   []string `json:"groups,omitempty"`   // groups whose facts or members changed
	Projects []string `json:"projects,omitempty"` // projects whose settings changed
	All      bool     `json:"all,omitempty"`      // everything of the org may have changed
	ID       string   `json:"-"`                  // stream entry id
}

// AuditEntry is one audited write.
type AuditEntry struct {
	ID            string          `json:"id"`
	Time          time.Time       `json:"time"`
	Actor         string          `json:"actor"`
	Action        string          `json:"action"`
	Target        string          `json:"target"`
	Before        json.RawMessage `json:"before,omitempty"`
	After         json.RawMessage `json:"after,omitempty"`
	Justification string          `json:"justification,omitempty"`
	Revision      int64           `json:"revision"`
}

// Actor says who writes and why; every write carries one.
type Actor struct {
	Subject       string
	Justification string
}

// record queues, inside a MULTI, the revision bump, the audit entry and the
// change feed entry of a write, so that the three land with the write or not
// at all. rev is the revision the write produces.
func (s *Store) record(pipe redis.Pipeliner, k Keys, rev int64, a Actor, action, target string, before, after any, ch Change) {
	pipe.Set(context.Background(), k.Rev(), rev, 0)
	ch.Revision = rev
	ctx := context.Background()
	pipe.XAdd(ctx, &redis.XAddArgs{Stream: k.Audit(), Values: map[string]any{
		"time": time.Now().UTC().Format(time.RFC3339Nano), "actor": a.Subject, "action": action, "target": target,
		"before": rawJSON(before), "after": rawJSON(after), "justification": a.Justification,
		"revision": strconv.FormatInt(rev, 10),
	}})
	b, err := json.Marshal(ch)
	if err != nil {
		// A Change holds strings, ints and bools only: this cannot happen.
		panic(err)
	}
	pipe.XAdd(ctx, &redis.XAddArgs{Stream: k.Changes(), MaxLen: s.cfg.ChangeFeedLen, Approx: true, Values: map[string]any{"change": string(b)}})
	// The notification every PDP's feed hears, in the same transaction: a
	// write is announced if and only if it lands. PUBLISH names no key, so
	// it joins the org's single-slot transaction on a Cluster too.
	pipe.Publish(ctx, s.ChangesChannel(), b)
}

func rawJSON(v any) string {
	if v == nil {
		return ""
	}
	if s, ok := v.(string); ok {
		return s
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// AuditPage is one page of the audit stream, oldest first.
type AuditPage struct {
	Entries []AuditEntry `json:"entries"`
	Next    string       `json:"next,omitempty"` // cursor of the next page, "" at the end
}

// Audit pages through an org's audit stream from cursor ("" = the start).
func (s *Store) Audit(ctx context.Context, org, cursor string, limit int64) (AuditPage, error) {
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	start := "-"
	if cursor != "" {
		start = "(" + cursor
	}
	msgs, err := s.rdb.XRangeN(ctx, s.keys(org).Audit(), start, "+", limit+1).Result()
	if err != nil {
		if isBadID(err) {
			return AuditPage{}, verr.New(verr.InvalidInput, "cursor", "not a cursor of this stream")
		}
		return AuditPage{}, unavailable(err)
	}
	page := AuditPage{Entries: []AuditEntry{}}
	for i, m := range msgs {
		if int64(i) == limit {
			page.Next = msgs[i-1].ID
			break
		}
		page.Entries = append(page.Entries, auditEntry(m))
	}
	return page, nil
}

func auditEntry(m redis.XMessage) AuditEntry {
	str := func(k string) string { s, _ := m.Values[k].(string); return s }
	e := AuditEntry{ID: m.ID, Actor: str("actor"), Action: str("action"), Target: str("target"), Justification: str("justification")}
	e.Time, _ = time.Parse(time.RFC3339Nano, str("time"))
	e.Revision, _ = strconv.ParseInt(str("revision"), 10, 64)
	if b := str("before"); b != "" {
		e.Before = json.RawMessage(b)
	}
	if a := str("after"); a != "" {
		e.After = json.RawMessage(a)
	}
	return e
}

func isBadID(err error) bool {
	return err != nil && (strings.Contains(strings.ToLower(err.Error()), "invalid stream id"))
}

// ReadChanges returns up to 1000 entries of org's durable change log after
// the stream id after ("0": from the start), waiting up to block for one
// (0: no wait). PDPs do not read it: they hear changes on ChangesChannel; it
// is kept for tools and audits that need the changes in order.
func (s *Store) ReadChanges(ctx context.Context, org, after string, block time.Duration) ([]Change, error) {
	args := &redis.XReadArgs{Streams: []string{s.keys(org).Changes(), after}, Count: 1000, Block: -1}
	if block > 0 {
		args.Block = block
	}
	res, err := s.rdb.XRead(ctx, args).Result()
	if err == redis.Nil {
		return nil, nil
	}
	if err != nil {
		return nil, unavailable(err)
	}
	var out []Change
	for _, st := range res {
		for _, m := range st.Messages {
			var c Change
			raw, _ := m.Values["change"].(string)
			if err := json.Unmarshal([]byte(raw), &c); err != nil {
				return nil, verr.Wrap(verr.FactsInvalid, "", err, "change %s of org %s does not decode: %v", m.ID, org, err)
			}
			c.ID = m.ID
			out = append(out, c)
		}
	}
	return out, nil
}

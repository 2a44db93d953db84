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
func (s *Store) record(pipe redis.Pipeliner, k keys, rev int64, a Actor, action, target string, before, after any, ch Change) {
	pipe.Set(context.Background(), k.rev(), rev, 0)
	ch.Revision = rev
	ctx := context.Background()
	pipe.XAdd(ctx, &redis.XAddArgs{Stream: k.audit(), Values: map[string]any{
		"time": time.Now().UTC().Format(time.RFC3339Nano), "actor": a.Subject, "action": action, "target": target,
		"before": rawJSON(before), "after": rawJSON(after), "justification": a.Justification,
		"revision": strconv.FormatInt(rev, 10),
	}})
	b, _ := json.Marshal(ch)
	pipe.XAdd(ctx, &redis.XAddArgs{Stream: k.changes(), MaxLen: s.cfg.ChangeFeedLen, Approx: true, Values: map[string]any{"change": string(b)}})
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
	msgs, err := s.rdb.XRangeN(ctx, s.keys(org).audit(), start, "+", limit+1).Result()
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

// ReadChanges blocks up to block for changes of org after the stream id
// after ("$" = only new ones; "0" = from the start) and returns them.
func (s *Store) ReadChanges(ctx context.Context, org, after string, block time.Duration) ([]Change, error) {
	res, err := s.rdb.XRead(ctx, &redis.XReadArgs{Streams: []string{s.keys(org).changes(), after}, Block: block, Count: 1000}).Result()
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
			if json.Unmarshal([]byte(raw), &c) == nil {
				c.ID = m.ID
				out = append(out, c)
			}
		}
	}
	return out, nil
}

// LastChangeID is the id of the newest change feed entry of org ("0-0" if none).
func (s *Store) LastChangeID(ctx context.Context, org string) (string, error) {
	msgs, err := s.rdb.XRevRangeN(ctx, s.keys(org).changes(), "+", "-", 1).Result()
	if err != nil {
		return "", unavailable(err)
	}
	if len(msgs) == 0 {
		return "0-0", nil
	}
	return msgs[0].ID, nil
}

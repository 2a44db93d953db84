package domain

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"sort"
	"strconv"
	"strings"

	"github.com/verdict-pdp/verdict/internal/store"
	"github.com/verdict-pdp/verdict/internal/verr"
)

// Page is one page of a list of the admin API, in record position order.
// NextCursor is "" on the last page.
type Page[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor"`
}

// Limits of a page.
const (
	DefaultLimit = 100
	MaxLimit     = 1000
)

// ETag is the entity tag of a record as the admin API shows it: a strong tag
// over the record's JSON (encoding/json sorts map keys, so equal records have
// equal tags).
func ETag(v any) string {
	b, _ := json.Marshal(v)
	sum := sha256.Sum256(b)
	return `"` + hex.EncodeToString(sum[:16]) + `"`
}

// checkIfMatch compares an If-Match header with the current record (cur,
// absent when !exists). "" means no precondition; "*" matches any existing
// record; otherwise one of the listed tags must equal the record's ETag
// (strong comparison: weak tags never match, RFC 9110 §13.1.1).
func checkIfMatch(ifMatch string, cur any, exists bool) error {
	ifMatch = strings.TrimSpace(ifMatch)
	if ifMatch == "" {
		return nil
	}
	if !exists {
		return verr.New(verr.PreconditionFailed, "If-Match", "the record does not exist")
	}
	if ifMatch == "*" {
		return nil
	}
	tag := ETag(cur)
	for _, t := range strings.Split(ifMatch, ",") {
		if strings.TrimSpace(t) == tag {
			return nil
		}
	}
	return verr.New(verr.PreconditionFailed, "If-Match", "the record changed: its ETag is now %s", tag)
}

// pageArgs checks a cursor (the position of the last record of the previous
// page, as written in next_cursor) and a limit (0: DefaultLimit).
func pageArgs(cursor string, limit int) (int64, int, error) {
	var after int64
	if cursor != "" {
		n, err := strconv.ParseInt(cursor, 10, 64)
		if err != nil || n < 0 {
			return 0, 0, verr.New(verr.InvalidInput, "cursor", "not a cursor of this list")
		}
		after = n
	}
	switch {
	case limit == 0:
		limit = DefaultLimit
	case limit < 0 || limit > MaxLimit:
		return 0, 0, verr.New(verr.InvalidInput, "limit", "limit must be between 1 and %d", MaxLimit)
	}
	return after, limit, nil
}

// positioned is a stored value with its position.
type positioned struct {
	field string
	raw   string
	seq   int64
}

// byPosition returns the fields of h that keep accepts, ordered by position.
func byPosition(h map[string]string, keep func(field string) bool) []positioned {
	out := make([]positioned, 0, len(h))
	for f, raw := range h {
		if keep == nil || keep(f) {
			out = append(out, positioned{f, raw, store.SeqOf(raw)})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].seq != out[j].seq {
			return out[i].seq < out[j].seq
		}
		return out[i].field < out[j].field
	})
	return out
}

// pageOf cuts one page out of a hash: the values after position `cursor`,
// at most limit of them, decoded by dec. Lists read the whole hash and sort
// it (O(n) per page): admin lists are rare next to decisions, and positions
// are what keeps the import order.
func pageOf[T any](h map[string]string, keep func(string) bool, cursor string, limit int, dec func(positioned) (T, error)) (Page[T], error) {
	after, limit, err := pageArgs(cursor, limit)
	if err != nil {
		return Page[T]{}, err
	}
	page := Page[T]{Items: []T{}}
	var last int64
	for _, p := range byPosition(h, keep) {
		if p.seq <= after {
			continue
		}
		if len(page.Items) == limit {
			page.NextCursor = strconv.FormatInt(last, 10)
			break
		}
		v, err := dec(p)
		if err != nil {
			return Page[T]{}, err
		}
		page.Items = append(page.Items, v)
		last = p.seq
	}
	return page, nil
}

// decodeAs decodes a positioned JSON record as T.
func decodeAs[T any](p positioned) (T, error) {
	var v T
	err := store.Decode(p.raw, &v)
	return v, err
}

// getRecord reads and decodes one record of an org's hash.
func getRecord[T any](ctx context.Context, d *Admin, org, key, field, errField, what string) (T, error) {
	var v T
	raw, err := d.st.ReadField(ctx, org, key, field, errField, what)
	if err != nil {
		return v, err
	}
	return v, store.Decode(raw, &v)
}

// listRecords pages through an org's hash of records of type T.
func listRecords[T any](ctx context.Context, d *Admin, org, key, cursor string, limit int) (Page[T], error) {
	if _, _, err := pageArgs(cursor, limit); err != nil {
		return Page[T]{}, err
	}
	h, err := d.st.ReadHash(ctx, org, key)
	if err != nil {
		return Page[T]{}, err
	}
	return pageOf(h, nil, cursor, limit, decodeAs[T])
}

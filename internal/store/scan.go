package store

import (
	"context"
	"sort"
	"strconv"

	"github.com/verdict-pdp/verdict/internal/verr"
)

// ScanUserIDs pages through an org's user ids with HSCAN: O(batch) per call
// whatever the org's size, for subject search. token is "" to start; the
// returned token is "" at the end. HSCAN's guarantee holds: a user present
// for the whole scan is returned at least once (a concurrent rehash may
// return one twice).
func (s *Store) ScanUserIDs(ctx context.Context, org, token string, batch int) ([]string, string, error) {
	var cursor uint64
	if token != "" {
		n, err := strconv.ParseUint(token, 10, 64)
		if err != nil {
			return nil, "", verr.New(verr.InvalidInput, "page.token", "not a token of this search")
		}
		cursor = n
	}
	// HSCAN NOVALUES needs Redis 7.4; plain HSCAN works everywhere and the
	// values are dropped.
	kv, next, err := s.rdb.HScan(ctx, s.keys(org).Users(), cursor, "*", int64(batch)).Result()
	if err != nil {
		return nil, "", unavailable(err)
	}
	keys := make([]string, 0, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		keys = append(keys, kv[i])
	}
	sort.Strings(keys)
	if next == 0 {
		return keys, "", nil
	}
	return keys, strconv.FormatUint(next, 10), nil
}

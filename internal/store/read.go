package store

import (
	"context"
	"strconv"

	"github.com/redis/go-redis/v9"
	"github.com/verdict-pdp/verdict/internal/verr"
)

// Reads of one org's keys outside a write, for the admin API's lists and
// records: each is one round trip and sees one consistent state. Errors are
// verr errors (Unavailable when Redis failed).

// ReadHash reads one hash of an org in a MULTI with a check that the org
// exists, so that an unknown org is NotFound at "org" rather than an empty
// hash.
func (s *Store) ReadHash(ctx context.Context, org, key string) (map[string]string, error) {
	var exists *redis.IntCmd
	var h *redis.MapStringStringCmd
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		exists = p.Exists(ctx, s.keys(org).Org())
		h = p.HGetAll(ctx, key)
		return nil
	})
	if err != nil {
		return nil, unavailable(err)
	}
	if exists.Val() == 0 {
		return nil, verr.New(verr.NotFound, "org", "no org %q", org)
	}
	return h.Val(), nil
}

// ReadField reads one field of an org's hash; NotFound names the org when
// the org is absent, else errField (`no <what> "<field>"`).
func (s *Store) ReadField(ctx context.Context, org, key, field, errField, what string) (string, error) {
	var exists *redis.IntCmd
	var v *redis.StringCmd
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		exists = p.Exists(ctx, s.keys(org).Org())
		v = p.HGet(ctx, key, field)
		return nil
	})
	if err != nil && err != redis.Nil {
		return "", unavailable(err)
	}
	if exists.Val() == 0 {
		return "", verr.New(verr.NotFound, "org", "no org %q", org)
	}
	raw, err := v.Result()
	if err == redis.Nil {
		return "", verr.New(verr.NotFound, errField, "no %s %q", what, field)
	}
	if err != nil {
		return "", unavailable(err)
	}
	return raw, nil
}

// Settings reads an org's environments and workspaces. A settings record
// that does not decode reads as empty, as an export reads it.
func (s *Store) Settings(ctx context.Context, org string) (OrgSettings, error) {
	var st OrgSettings
	raw, err := s.rdb.HGet(ctx, s.keys(org).Org(), "settings").Result()
	if err != nil {
		return st, unavailable(err)
	}
	_ = Decode(raw, &st)
	return st, nil
}

// EnvHash reads the environment hash of a project ({} when absent).
func (s *Store) EnvHash(ctx context.Context, org, project, env string) (map[string]string, error) {
	h, err := s.rdb.HGetAll(ctx, s.keys(org).Env(project, env)).Result()
	if err != nil {
		return nil, unavailable(err)
	}
	return h, nil
}

// MembersAfter reads at most n members of a membership sorted set whose
// positions come after `after`, in position order.
func (s *Store) MembersAfter(ctx context.Context, key string, after int64, n int) ([]Member, error) {
	zs, err := s.rdb.ZRangeByScoreWithScores(ctx, key, &redis.ZRangeBy{
		Min: "(" + strconv.FormatInt(after, 10), Max: "+inf", Count: int64(n),
	}).Result()
	if err != nil {
		return nil, unavailable(err)
	}
	return members(zs), nil
}

// ReadHashes reads several hashes of an org in one MULTI (one consistent
// state), with a check that the org exists (NotFound at "org").
func (s *Store) ReadHashes(ctx context.Context, org string, keys ...string) ([]map[string]string, error) {
	var exists *redis.IntCmd
	cmds := make([]*redis.MapStringStringCmd, len(keys))
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		exists = p.Exists(ctx, s.keys(org).Org())
		for i, k := range keys {
			cmds[i] = p.HGetAll(ctx, k)
		}
		return nil
	})
	if err != nil {
		return nil, unavailable(err)
	}
	if exists.Val() == 0 {
		return nil, verr.New(verr.NotFound, "org", "no org %q", org)
	}
	out := make([]map[string]string, len(keys))
	for i, c := range cmds {
		out[i] = c.Val()
	}
	return out, nil
}

// Package store keeps organizations' facts in Redis (docs/redis-keys.md):
// whole-org import and export, the few keys one decision reads (one Lua call,
// one round trip, a consistent snapshot), admin writes, the audit stream and
// the change feed.
//
// Every key of an org carries the hash tag {<org>}, so an org lives in one
// Redis Cluster slot: multi-key transactions and scripts work the same on one
// Redis and on a Cluster, and a write is atomic for readers.
//
// A Store is safe for concurrent use; it owns no data in memory (Redis does).
package store

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/verdict-pdp/verdict/internal/verr"
)

// Config of a store.
type Config struct {
	// URL of Redis (redis://host:port/db, rediss:// for TLS). For a Cluster,
	// give Addrs instead.
	URL string
	// Addrs of Cluster nodes (host:port); used when URL is empty.
	Addrs []string
	// Prefix of every key (default "v").
	Prefix string
	// ChangeFeedLen caps the change feed stream per org (default 10000):
	// readers that fall further behind drop their caches instead.
	ChangeFeedLen int64
	// ReadTimeout of one Redis reply (0: go-redis's 3 s, or the URL's
	// read_timeout). Bulk commands (export of a million users) need more.
	ReadTimeout time.Duration
}

// Validate checks the configuration and fills defaults.
func (c *Config) Validate() error {
	if c.URL == "" && len(c.Addrs) == 0 {
		return verr.New(verr.InvalidInput, "redis_url", "required")
	}
	if c.Prefix == "" {
		c.Prefix = "v"
	}
	if strings.ContainsAny(c.Prefix, "{}") {
		return verr.New(verr.InvalidInput, "prefix", "must not contain braces")
	}
	if c.ChangeFeedLen <= 0 {
		c.ChangeFeedLen = 10000
	}
	return nil
}

// Store is the Redis store.
type Store struct {
	cfg Config
	rdb redis.UniversalClient
}

// Open connects to Redis as configured.
func Open(cfg Config) (*Store, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	var rdb redis.UniversalClient
	if cfg.URL != "" {
		opt, err := redis.ParseURL(cfg.URL)
		if err != nil {
			return nil, verr.Wrap(verr.InvalidInput, "redis_url", err, "%v", err)
		}
		if cfg.ReadTimeout > 0 {
			opt.ReadTimeout = cfg.ReadTimeout
		}
		rdb = redis.NewClient(opt)
	} else {
		rdb = redis.NewClusterClient(&redis.ClusterOptions{Addrs: cfg.Addrs, ReadTimeout: cfg.ReadTimeout})
	}
	return &Store{cfg: cfg, rdb: rdb}, nil
}

// New wraps an existing client (tests, dev mode).
func New(rdb redis.UniversalClient, cfg Config) (*Store, error) {
	if cfg.URL == "" && len(cfg.Addrs) == 0 {
		cfg.URL = "redis://provided"
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Store{cfg: cfg, rdb: rdb}, nil
}

// Client returns the Redis client.
func (s *Store) Client() redis.UniversalClient { return s.rdb }

// Close closes the client.
func (s *Store) Close() error { return s.rdb.Close() }

// Ping checks that Redis answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.rdb.Ping(ctx).Err(); err != nil {
		return unavailable(err)
	}
	return nil
}

func unavailable(err error) error {
	return verr.Wrap(verr.Unavailable, "", err, "redis: %v", err)
}

// keys names the keys of one org.
type keys struct{ p string }

func (s *Store) keys(org string) keys { return keys{p: s.cfg.Prefix + ":{" + org + "}:"} }

func (k keys) org() string        { return k.p + "org" }
func (k keys) rev() string        { return k.p + "rev" }
func (k keys) seq() string        { return k.p + "seq" }
func (k keys) index() string      { return k.p + "keys" }
func (k keys) users() string      { return k.p + "users" }
func (k keys) usernames() string  { return k.p + "usernames" }
func (k keys) roles() string      { return k.p + "roles" }
func (k keys) groups() string     { return k.p + "groups" }
func (k keys) userGroups() string { return k.p + "user_groups" }
func (k keys) legacy() string     { return k.p + "legacy" }
func (k keys) dgroups() string    { return k.p + "dgroups" }
func (k keys) dgroupsOf() string  { return k.p + "dgroups_of" }
func (k keys) droles() string     { return k.p + "droles" }
func (k keys) projects() string   { return k.p + "projects" }
func (k keys) filters() string    { return k.p + "filters" }
func (k keys) audit() string      { return k.p + "audit" }
func (k keys) changes() string    { return k.p + "changes" }
func (k keys) lastSeen() string   { return k.p + "last_seen" }

func (k keys) members(group string) string  { return k.p + "members:" + group }
func (k keys) dmembers(group string) string { return k.p + "dmembers:" + group }
func (k keys) builds(project string) string { return k.p + "builds:" + project }
func (k keys) env(project, env string) string {
	return k.p + "env:" + project + ":" + env
}

// orgsKey is the set of org ids (outside any org's slot).
func (s *Store) orgsKey() string { return s.cfg.Prefix + ":orgs" }

// Fields of an environment hash.
const (
	fieldActivePolicy = "ap"
	fieldRoleOverride = "ro"
	prefixUserShare   = "su:"
	prefixGroupShare  = "sg:"
	prefixUsernameOvr = "uo:"
	prefixGroupOvr    = "go:"
)

// withSeq renders v as a JSON object with an extra "#" member: the position
// of the record in its collection, so that export keeps the imported order.
func withSeq(v any, seq int64) string {
	b, _ := json.Marshal(v)
	if len(b) < 2 || b[0] != '{' {
		return string(b)
	}
	s, _ := json.Marshal(seq)
	if len(b) == 2 {
		return `{"#":` + string(s) + `}`
	}
	return `{"#":` + string(s) + `,` + string(b[1:])
}

// seqOf reads the "#" member of a stored record.
func seqOf(raw string) int64 {
	var x struct {
		Seq int64 `json:"#"`
	}
	_ = json.Unmarshal([]byte(raw), &x)
	return x.Seq
}

// Orgs lists the org ids in the store.
func (s *Store) Orgs(ctx context.Context) ([]string, error) {
	ids, err := s.rdb.SMembers(ctx, s.orgsKey()).Result()
	if err != nil {
		return nil, unavailable(err)
	}
	return ids, nil
}

// Revision is the org's revision: it grows with every write (0: no such org).
func (s *Store) Revision(ctx context.Context, org string) (int64, error) {
	n, err := s.rdb.Get(ctx, s.keys(org).rev()).Int64()
	if err == redis.Nil {
		return 0, nil
	}
	if err != nil {
		return 0, unavailable(err)
	}
	return n, nil
}

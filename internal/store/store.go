// Package store keeps organizations' facts in Redis (docs/redis-keys.md):
// the key layout (Keys, the record encoding), whole-org import, export and
// deletion, the few keys one decision reads (one Lua call, one round trip, a
// consistent snapshot), the audit stream, the change feed, and the one
// transaction every other write of an org goes through (Write and Tx).
//
// The store owns the data and its layout, not the rules of what may be
// written: those are the admin API's, in package admin/domain, which writes
// through Write. A write is one WATCH/MULTI transaction on the org's
// revision: it lands together with its revision bump, audit entry and
// change-feed entry, or not at all, and a write overtaken by another write
// of the same org runs again against the new state.
//
// Every key of an org carries the hash tag {<org>}, so an org lives in one
// Redis Cluster slot: multi-key transactions and scripts work the same on one
// Redis and on a Cluster, and a write is atomic for readers.
//
// A Store is safe for concurrent use; it owns no data in memory (Redis does).
// A Tx belongs to the one goroutine running its Write.
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

// Keys names the keys of one org (docs/redis-keys.md). Every key carries the
// org's hash tag, so all of them live in one Cluster slot. Code outside the
// store uses them only inside a Tx (Store.Write) or with the store's reads.
type Keys struct{ p string }

// Keys returns the key names of org.
func (s *Store) Keys(org string) Keys { return s.keys(org) }

// OrgPrefix is the prefix of every key of org ("v:{acme}:"): the facts
// path reads the same keys (docs/redis-keys.md).
func (s *Store) OrgPrefix(org string) string { return s.cfg.Prefix + ":{" + org + "}:" }

// ChangesChannel is the pub/sub channel on which every write announces the
// org it changed and the revision it produced, in the write's own
// transaction (docs/consistency.md). A channel has no slot: on a Redis
// Cluster a publish reaches every node.
func (s *Store) ChangesChannel() string { return s.cfg.Prefix + ":changes" }

func (s *Store) keys(org string) Keys { return Keys{p: s.OrgPrefix(org)} }

func (k Keys) Org() string        { return k.p + "org" } // hash: "settings" (OrgSettings)
func (k Keys) Rev() string        { return k.p + "rev" }
func (k Keys) Seq() string        { return k.p + "seq" } // last record position given
func (k Keys) Index() string      { return k.p + "keys" }
func (k Keys) Users() string      { return k.p + "users" }
func (k Keys) Usernames() string  { return k.p + "usernames" }
func (k Keys) Roles() string      { return k.p + "roles" }
func (k Keys) Groups() string     { return k.p + "groups" }
func (k Keys) UserGroups() string { return k.p + "user_groups" }
func (k Keys) Legacy() string     { return k.p + "legacy" }
func (k Keys) DGroups() string    { return k.p + "dgroups" }
func (k Keys) DGroupsOf() string  { return k.p + "dgroups_of" }
func (k Keys) DRoles() string     { return k.p + "droles" }
func (k Keys) Projects() string   { return k.p + "projects" }
func (k Keys) Filters() string    { return k.p + "filters" }
func (k Keys) Audit() string      { return k.p + "audit" }
func (k Keys) Changes() string    { return k.p + "changes" }
func (k Keys) LastSeen() string   { return k.p + "last_seen" }

func (k Keys) Members(group string) string  { return k.p + "members:" + group }
func (k Keys) DMembers(group string) string { return k.p + "dmembers:" + group }
func (k Keys) Builds(project string) string { return k.p + "builds:" + project }
func (k Keys) Env(project, env string) string {
	return k.p + "env:" + project + ":" + env
}

// orgsKey is the set of org ids (outside any org's slot).
func (s *Store) orgsKey() string { return s.cfg.Prefix + ":orgs" }

// Fields of an environment hash (Keys.Env): the active policy's default,
// the deprecated role overrides (one JSON list), and per subject its share
// and override, named by prefix + user id, group or username.
const (
	FieldActivePolicy      = "ap"
	FieldRoleOverride      = "ro"
	PrefixUserShare        = "su:"
	PrefixGroupShare       = "sg:"
	PrefixUsernameOverride = "uo:"
	PrefixGroupOverride    = "go:"
	// PrefixShadowedGroupOverride holds a group's other overrides (a JSON
	// list) when a document lists several for it: never read by decisions,
	// which read the lowest priority one in PrefixGroupOverride.
	PrefixShadowedGroupOverride = "gx:"
)

// WithSeq renders v as a JSON object with an extra "#" member: the position
// of the record in its collection, so that export keeps the imported order.
func WithSeq(v any, seq int64) string {
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

// SeqOf reads the "#" member of a stored record: straight from the head
// that WithSeq writes, without decoding the whole record; other shapes are
// decoded.
func SeqOf(raw string) int64 {
	const head = `{"#":`
	if strings.HasPrefix(raw, head) {
		rest := raw[len(head):]
		end := strings.IndexAny(rest, ",}")
		if end > 0 {
			if n, err := strconv.ParseInt(rest[:end], 10, 64); err == nil {
				return n
			}
		}
	}
	var x struct {
		Seq int64 `json:"#"`
	}
	_ = json.Unmarshal([]byte(raw), &x)
	return x.Seq
}

// Decode decodes a stored JSON value into v; a value that does not decode
// is an Internal error (the store holds only what it wrote).
func Decode(raw string, v any) error {
	if err := json.Unmarshal([]byte(raw), v); err != nil {
		return verr.Wrap(verr.Internal, "", err, "stored record unreadable: %v", err)
	}
	return nil
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
	n, err := s.rdb.Get(ctx, s.keys(org).Rev()).Int64()
	if err == redis.Nil {
		return 0, nil
	}
	if err != nil {
		return 0, unavailable(err)
	}
	return n, nil
}

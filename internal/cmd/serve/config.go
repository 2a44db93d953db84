package serve

import (
	"errors"
	"flag"
	"io"
	"os"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/verdict-pdp/verdict/internal/api"
	"github.com/verdict-pdp/verdict/internal/cmd/cliflag"
	"github.com/verdict-pdp/verdict/internal/engine"
	"github.com/verdict-pdp/verdict/internal/facts"
	"github.com/verdict-pdp/verdict/internal/limits"
	"github.com/verdict-pdp/verdict/internal/tracing"
	"github.com/verdict-pdp/verdict/internal/verr"
)

// Config of `verdict serve`. Precedence: defaults, then the YAML file
// (--config), then VERDICT_* environment variables, then flags.
type Config struct {
	Addr     string `yaml:"addr"`      // listen address
	RedisURL string `yaml:"redis_url"` // env VERDICT_REDIS_URL
	// RedisCluster reads RedisURL as a Redis Cluster's seed nodes
	// (redis://host:port?addr=host2:port2&addr=host3:port3).
	RedisCluster bool `yaml:"redis_cluster"`
	// RedisPoolSize bounds the PDP's Redis connections: at most this many
	// for commands (per node on a Cluster) plus the change feed's one
	// pub/sub connection, whatever the number of orgs (default 32; see
	// redis.go and docs/consistency.md).
	RedisPoolSize  int           `yaml:"redis_pool_size"`
	Dev            bool          `yaml:"dev"`             // embedded store, demo org, sign-in off
	Auth           string        `yaml:"auth"`            // "oidc" (default) or "none" (must be explicit)
	OIDCIssuer     string        `yaml:"oidc_issuer"`     // env VERDICT_OIDC_ISSUER
	OIDCAudience   string        `yaml:"oidc_audience"`   // env VERDICT_OIDC_AUDIENCE
	DefaultOrg     string        `yaml:"default_org"`     // org of requests without context.org
	BootstrapAdmin string        `yaml:"bootstrap_admin"` // token subject allowed to create a fresh org
	DecisionLog    string        `yaml:"decision_log"`    // "" off, "-" stdout, else a file
	TLSCert        string        `yaml:"tls_cert"`
	TLSKey         string        `yaml:"tls_key"`
	TLSClientCA    string        `yaml:"tls_client_ca"` // require client certificates signed by it
	MaxBodyBytes   int64         `yaml:"max_body_bytes"`
	RequestTimeout time.Duration `yaml:"request_timeout"`
	CacheMaxAge    time.Duration `yaml:"cache_max_age"`
	// StaleFactsMax bounds how old cached facts may be when they answer
	// while Redis cannot be reached (default 15s; 0: fail closed at once).
	// Such answers carry context.stale and context.stale_age_ms.
	StaleFactsMax time.Duration `yaml:"stale_facts_max"`
	// ReadyTimeout bounds /ready (default 1s): a check (Redis) that has not
	// answered by then is reported slow, and the PDP not ready.
	ReadyTimeout time.Duration `yaml:"ready_timeout"`
	// FactsCache and DecisionCache bound the subject-facts cache and the
	// decision cache, in entries (0: defaults, -1: decision cache off).
	// Their size is what the PDP's memory depends on, not the org's size.
	FactsCache    int `yaml:"facts_cache"`
	DecisionCache int `yaml:"decision_cache"`
	// MemoryLimitMiB is the Go heap's soft limit (default 200; 0 keeps the
	// default, -1 leaves the runtime alone; GOMEMLIMIT and GOGC, when set,
	// win). See tuneGC.
	MemoryLimitMiB int `yaml:"memory_limit_mib"`
	// DebugAddr, when set, serves Go's pprof profiles (/debug/pprof/) on a
	// separate listener, never on the API port.
	DebugAddr  string   `yaml:"debug_addr"`
	PolicyDirs []string `yaml:"policy_dirs"` // extension policies (repeatable --policy-dir)
	// BundleSigningKey signs the bundles served to edges (env VERDICT_BUNDLE_SIGNING_KEY).
	BundleSigningKey string `yaml:"bundle_signing_key"`
	// MaxRequests bounds the requests in progress (default 1024; /health,
	// /ready and /metrics are never counted); past it a request is answered
	// 503 with Retry-After at once (package limits, docs/limits.md).
	MaxRequests int `yaml:"max_requests"`
	// MaxLongPolls bounds the bundle long polls waiting at once (default
	// 1024); a waiting long poll does not count as a request in progress.
	MaxLongPolls int `yaml:"max_long_polls"`
	// DataPathsMax bounds the prepared queries of OPA's data API (default
	// 512); only paths the policies define are ever prepared.
	DataPathsMax int `yaml:"data_paths_max"`
	// The HTTP server's timeouts (net/http): reading a request's headers
	// (default 5s: a client that sends them byte by byte is cut off), the
	// whole request (30s), writing the answer (60s; a bundle long poll moves
	// its own deadline past its wait), and an idle keep-alive connection
	// (120s).
	ReadHeaderTimeout time.Duration `yaml:"read_header_timeout"`
	ReadTimeout       time.Duration `yaml:"read_timeout"`
	WriteTimeout      time.Duration `yaml:"write_timeout"`
	IdleTimeout       time.Duration `yaml:"idle_timeout"`
	// ConsoleClientID is the OIDC client the access console (/console/)
	// signs admins in with (default: OIDCAudience); its secret, for a
	// confidential client, is read from VERDICT_CONSOLE_CLIENT_SECRET only.
	ConsoleClientID string `yaml:"console_client_id"`
	// AccessLog is one log line per HTTP request: all (default), errors
	// (answers 4xx and 5xx only) or off. docs/observability.md says when
	// to turn it down.
	AccessLog string `yaml:"access_log"`
	// OTLPEndpoint turns OpenTelemetry tracing on: spans of each request,
	// decision, facts read and policy evaluation go to this OTLP/HTTP
	// collector (http://collector:4318, or host:port: HTTPS unless
	// OTLPInsecure). "" is off, unless OTEL_EXPORTER_OTLP_ENDPOINT is set.
	OTLPEndpoint string `yaml:"otlp_endpoint"`
	OTLPInsecure bool   `yaml:"otlp_insecure"`
	// OTLPSampleRatio is the share of traces started here that are kept
	// (default 1; a caller's traceparent decides for its own traces).
	OTLPSampleRatio float64 `yaml:"otlp_sample_ratio"`
}

// observability checks and defaults the access log and tracing settings.
func (c *Config) observability() error {
	o := api.ObserveConfig{AccessLog: c.AccessLog}
	if err := o.Validate(); err != nil {
		return err
	}
	t := c.tracing()
	if err := t.Validate(); err != nil {
		return err
	}
	c.AccessLog, c.OTLPSampleRatio = o.AccessLog, t.SampleRatio
	return nil
}

// tracing is the tracing configuration.
func (c *Config) tracing() tracing.Config {
	return tracing.Config{Endpoint: c.OTLPEndpoint, Insecure: c.OTLPInsecure, SampleRatio: c.OTLPSampleRatio, ServiceName: "verdict"}
}

// dirsFlag is a repeatable flag.
type dirsFlag []string

func (d *dirsFlag) String() string     { return strings.Join(*d, ",") }
func (d *dirsFlag) Set(v string) error { *d = append(*d, v); return nil }

// Validate checks the configuration.
func (c *Config) Validate() error {
	if c.Addr == "" {
		c.Addr = "127.0.0.1:8181"
	}
	if c.RedisPoolSize < 0 {
		return verr.New(verr.InvalidInput, "redis-pool-size", "must be positive")
	}
	if c.RedisPoolSize == 0 {
		c.RedisPoolSize = DefaultRedisPoolSize
	}
	if err := c.observability(); err != nil {
		return err
	}
	if err := c.validateLimits(); err != nil {
		return err
	}
	if c.Dev {
		if c.Auth == "" {
			c.Auth = "none"
		}
		return nil
	}
	if c.RedisURL == "" {
		return verr.New(verr.InvalidInput, "redis-url", "required (or VERDICT_REDIS_URL), unless --dev")
	}
	switch c.Auth {
	case "", "oidc":
		c.Auth = "oidc"
		if c.OIDCIssuer == "" || c.OIDCAudience == "" {
			return verr.New(verr.InvalidInput, "oidc-issuer", "--oidc-issuer and --oidc-audience are required with --auth=oidc; sign-in can only be turned off explicitly with --auth=none")
		}
	case "none":
	default:
		return verr.New(verr.InvalidInput, "auth", "must be oidc or none, not %q", c.Auth)
	}
	if c.StaleFactsMax < 0 {
		return verr.New(verr.InvalidInput, "stale-facts-max", "must not be negative (0 fails closed at once)")
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return verr.New(verr.InvalidInput, "tls-cert", "--tls-cert and --tls-key go together")
	}
	if c.TLSClientCA != "" && c.TLSCert == "" {
		return verr.New(verr.InvalidInput, "tls-client-ca", "needs --tls-cert and --tls-key")
	}
	return nil
}

// validateLimits checks the bounds of docs/limits.md and fills their
// defaults (0 keeps the default).
func (c *Config) validateLimits() error {
	for _, l := range []struct {
		name string
		v    *int
		def  int
	}{
		{"max-requests", &c.MaxRequests, limits.DefaultMaxRequests},
		{"max-long-polls", &c.MaxLongPolls, limits.DefaultMaxLongPolls},
		{"data-paths-max", &c.DataPathsMax, engine.DefaultDataPathsMax},
	} {
		if *l.v < 0 {
			return verr.New(verr.InvalidInput, l.name, "must not be negative")
		}
		if *l.v == 0 {
			*l.v = l.def
		}
	}
	for _, t := range []struct {
		name string
		v    *time.Duration
		def  time.Duration
	}{
		{"read-header-timeout", &c.ReadHeaderTimeout, DefaultReadHeaderTimeout},
		{"read-timeout", &c.ReadTimeout, DefaultReadTimeout},
		{"write-timeout", &c.WriteTimeout, DefaultWriteTimeout},
		{"idle-timeout", &c.IdleTimeout, DefaultIdleTimeout},
	} {
		if *t.v < 0 {
			return verr.New(verr.InvalidInput, t.name, "must not be negative")
		}
		if *t.v == 0 {
			*t.v = t.def
		}
	}
	return nil
}

// Defaults of the HTTP server's timeouts.
const (
	DefaultReadHeaderTimeout = 5 * time.Second
	DefaultReadTimeout       = 30 * time.Second
	DefaultWriteTimeout      = 60 * time.Second
	DefaultIdleTimeout       = 120 * time.Second
)

// command defines serve's command line on f, a scratch config: a flag's
// value is applied over the YAML file only when the command line or its
// environment variable set it (see load).
func command(f *Config) (c *cliflag.Command, configFile *string) {
	c = cliflag.New("serve", "[--dev | --redis-url URL] [flags]",
		`Runs the central PDP over HTTP: AuthZEN decisions and searches, OPA's data API, business
filters, the admin API, signed bundles for edges, /health, /ready and /metrics. Facts are
read from Redis per decision. --dev runs on an embedded Redis-protocol store seeded with the
demo org, sign-in off (said loudly in the log). Callers sign in with OIDC unless --auth=none
is given explicitly.

Configuration, later wins: defaults, the YAML file (--config; every key is documented in
verdict.example.yaml), the environment variables below, the flags. SIGHUP reloads the
--policy-dir policies.`,
		"verdict serve --dev",
		"verdict serve --redis-url redis://127.0.0.1:6379/0 --auth none --addr 127.0.0.1:8181",
		"verdict serve --config verdict.yaml",
		"VERDICT_REDIS_URL=redis://redis:6379 VERDICT_OIDC_ISSUER=https://idp.example.com VERDICT_OIDC_AUDIENCE=verdict verdict serve")
	configFile = c.String("config", "", "YAML configuration `FILE` (keys: see verdict.example.yaml)")
	c.StringVar(&f.Addr, "addr", "", "listen address `ADDR` (default 127.0.0.1:8181)")
	c.StringVar(&f.RedisURL, "redis-url", "", "Redis `URL` (redis://[user:password@]host:port/db; rediss:// for TLS)")
	c.BoolVar(&f.Dev, "dev", false, "development mode: embedded Redis-protocol store seeded with the demo org, sign-in off")
	c.StringVar(&f.Auth, "auth", "", "caller sign-in: `oidc|none` (default oidc; none must be given explicitly)")
	c.StringVar(&f.OIDCIssuer, "oidc-issuer", "", "OIDC issuer `URL`")
	c.StringVar(&f.OIDCAudience, "oidc-audience", "", "OIDC `AUDIENCE`")
	c.StringVar(&f.DefaultOrg, "default-org", "", "`ORG` of requests without context.org")
	c.StringVar(&f.BootstrapAdmin, "bootstrap-admin", "", "token `SUBJECT` that may administer an org that has no data yet")
	c.StringVar(&f.DecisionLog, "decision-log", "", "decision log (OPA's shape): \"-\" for stdout or a `FILE`")
	c.StringVar(&f.TLSCert, "tls-cert", "", "TLS certificate `FILE` (PEM)")
	c.StringVar(&f.TLSKey, "tls-key", "", "TLS key `FILE` (PEM)")
	c.StringVar(&f.TLSClientCA, "tls-client-ca", "", "require client certificates signed by this CA `FILE` (mutual TLS)")
	c.Int64Var(&f.MaxBodyBytes, "max-body-bytes", 0, "largest decision request body (default 1 MiB)")
	c.DurationVar(&f.RequestTimeout, "request-timeout", 0, "time limit of one request (default 5s)")
	c.DurationVar(&f.ReadyTimeout, "ready-timeout", 0, "time limit of /ready; a slower check is reported slow (default 1s)")
	c.DurationVar(&f.CacheMaxAge, "cache-max-age", 0, "trust cached facts this long without a change-feed event (default 60s)")
	c.DurationVar(&f.StaleFactsMax, "stale-facts-max", facts.DefaultStaleMax, "while Redis is unreachable, cached facts answer (marked stale) only if at most this old; 0 fails closed at once")
	c.BoolVar(&f.RedisCluster, "redis-cluster", false, "--redis-url names a Redis Cluster (redis://host:port?addr=host2:port2&...)")
	c.IntVar(&f.RedisPoolSize, "redis-pool-size", 0, "Redis connections for commands, per node on a Cluster (default 32); the change feed adds one pub/sub connection")
	c.IntVar(&f.FactsCache, "facts-cache", 0, "subject facts kept, in entries (default 1000)")
	c.IntVar(&f.DecisionCache, "decision-cache", 0, "answers kept, in entries (default 10000; -1: off)")
	c.IntVar(&f.MemoryLimitMiB, "memory-limit-mib", 0, "soft limit of the Go heap in MiB (default 200; -1: runtime defaults; GOMEMLIMIT wins)")
	c.StringVar(&f.DebugAddr, "debug-addr", "", "serve pprof profiles at this address `ADDR` (off by default)")
	c.StringVar(&f.BundleSigningKey, "bundle-signing-key", "", "PEM private `KEY` (RSA or EC) signing the bundles served to edges")
	c.StringVar(&f.ConsoleClientID, "console-client-id", "", "OIDC client `ID` of the access console at /console/ (default: the audience)")
	c.StringVar(&f.AccessLog, "access-log", "", "one log line per request: `all|errors|off` (default all; errors: answers 4xx and 5xx)")
	c.StringVar(&f.OTLPEndpoint, "otlp-endpoint", "", "send OpenTelemetry traces to this OTLP/HTTP collector `URL` (http://collector:4318, or host:port); off by default (OTEL_EXPORTER_OTLP_ENDPOINT is honoured)")
	c.BoolVar(&f.OTLPInsecure, "otlp-insecure", false, "a host:port --otlp-endpoint over plain HTTP")
	c.Float64Var(&f.OTLPSampleRatio, "otlp-sample-ratio", 0, "share of traces started here that are recorded (default 1)")
	c.IntVar(&f.MaxRequests, "max-requests", 0, "requests in progress at once; past it 503 with Retry-After (default 1024; /health, /ready, /metrics not counted)")
	c.IntVar(&f.MaxLongPolls, "max-long-polls", 0, "bundle long polls waiting at once; past it 503 with Retry-After (default 1024)")
	c.IntVar(&f.DataPathsMax, "data-paths-max", 0, "prepared queries kept for OPA's data API, least recently used forgotten (default 512)")
	c.DurationVar(&f.ReadHeaderTimeout, "read-header-timeout", 0, "time to read a request's headers (default 5s)")
	c.DurationVar(&f.ReadTimeout, "read-timeout", 0, "time to read a whole request (default 30s)")
	c.DurationVar(&f.WriteTimeout, "write-timeout", 0, "time to write an answer (default 60s; bundle long polls extend theirs past their wait)")
	c.DurationVar(&f.IdleTimeout, "idle-timeout", 0, "time an idle keep-alive connection stays open (default 120s)")
	c.Var((*dirsFlag)(&f.PolicyDirs), "policy-dir", "extension policies: every .rego and data.json under `DIR` (repeatable; reloaded on SIGHUP)")
	// Every flag but --dev (development mode is asked for on the command
	// line, never inherited) and the repeatable --policy-dir has a variable.
	c.VisitAll(func(fl *flag.Flag) {
		if fl.Name != "dev" && fl.Name != "policy-dir" {
			c.Env(fl.Name, "VERDICT_"+strings.ToUpper(strings.ReplaceAll(fl.Name, "-", "_")))
		}
	})
	return c, configFile
}

// load builds the configuration from the YAML file, the environment and
// args. When !ok, Run exits with code (0 after --help).
func load(args []string, stdout, stderr io.Writer) (cfg *Config, code int, ok bool) {
	f := &Config{}
	cmd, configFile := command(f)
	pos, code, ok := cmd.Parse(args, stdout, stderr)
	if !ok {
		return nil, code, false
	}
	if len(pos) > 0 {
		return nil, cmd.Fail(stderr, "unexpected argument %q", pos[0]), false
	}
	c := &Config{StaleFactsMax: facts.DefaultStaleMax}
	if *configFile != "" {
		b, err := os.ReadFile(*configFile)
		if err != nil {
			return nil, cmd.Fail(stderr, "%v", err), false
		}
		dec := yaml.NewDecoder(strings.NewReader(string(b)))
		dec.KnownFields(true)
		if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) {
			return nil, cmd.Fail(stderr, "%s: %v", *configFile, err), false
		}
	}
	// Parse set the flags given on the command line or by their variable:
	// those win over the file.
	cmd.Visit(func(fl *flag.Flag) {
		switch fl.Name {
		case "addr":
			c.Addr = f.Addr
		case "redis-url":
			c.RedisURL = f.RedisURL
		case "dev":
			c.Dev = f.Dev
		case "auth":
			c.Auth = f.Auth
		case "oidc-issuer":
			c.OIDCIssuer = f.OIDCIssuer
		case "oidc-audience":
			c.OIDCAudience = f.OIDCAudience
		case "default-org":
			c.DefaultOrg = f.DefaultOrg
		case "bootstrap-admin":
			c.BootstrapAdmin = f.BootstrapAdmin
		case "decision-log":
			c.DecisionLog = f.DecisionLog
		case "tls-cert":
			c.TLSCert = f.TLSCert
		case "tls-key":
			c.TLSKey = f.TLSKey
		case "tls-client-ca":
			c.TLSClientCA = f.TLSClientCA
		case "max-body-bytes":
			c.MaxBodyBytes = f.MaxBodyBytes
		case "request-timeout":
			c.RequestTimeout = f.RequestTimeout
		case "ready-timeout":
			c.ReadyTimeout = f.ReadyTimeout
		case "cache-max-age":
			c.CacheMaxAge = f.CacheMaxAge
		case "stale-facts-max":
			c.StaleFactsMax = f.StaleFactsMax
		case "redis-cluster":
			c.RedisCluster = f.RedisCluster
		case "redis-pool-size":
			c.RedisPoolSize = f.RedisPoolSize
		case "facts-cache":
			c.FactsCache = f.FactsCache
		case "decision-cache":
			c.DecisionCache = f.DecisionCache
		case "memory-limit-mib":
			c.MemoryLimitMiB = f.MemoryLimitMiB
		case "debug-addr":
			c.DebugAddr = f.DebugAddr
		case "bundle-signing-key":
			c.BundleSigningKey = f.BundleSigningKey
		case "policy-dir":
			c.PolicyDirs = f.PolicyDirs
		case "console-client-id":
			c.ConsoleClientID = f.ConsoleClientID
		case "access-log":
			c.AccessLog = f.AccessLog
		case "otlp-endpoint":
			c.OTLPEndpoint = f.OTLPEndpoint
		case "otlp-insecure":
			c.OTLPInsecure = f.OTLPInsecure
		case "otlp-sample-ratio":
			c.OTLPSampleRatio = f.OTLPSampleRatio
		case "max-requests":
			c.MaxRequests = f.MaxRequests
		case "max-long-polls":
			c.MaxLongPolls = f.MaxLongPolls
		case "data-paths-max":
			c.DataPathsMax = f.DataPathsMax
		case "read-header-timeout":
			c.ReadHeaderTimeout = f.ReadHeaderTimeout
		case "read-timeout":
			c.ReadTimeout = f.ReadTimeout
		case "write-timeout":
			c.WriteTimeout = f.WriteTimeout
		case "idle-timeout":
			c.IdleTimeout = f.IdleTimeout
		}
	})
	if err := c.Validate(); err != nil {
		return nil, cmd.Fail(stderr, "%v", err), false
	}
	return c, 0, true
}

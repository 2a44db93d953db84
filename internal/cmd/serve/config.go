package serve

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/verdict-pdp/verdict/internal/facts"
	"github.com/verdict-pdp/verdict/internal/verr"
)

// Config of `verdict serve`. Precedence: defaults, then the YAML file
// (--config), then VERDICT_* environment variables, then flags.
type Config struct {
	Addr     string `yaml:"addr"`      // listen address
	RedisURL string `yaml:"redis_url"` // env VERDICT_REDIS_URL
	// RedisCluster reads RedisURL as a Redis Cluster's seed nodes
	// (redis://host:port?addr=host2:port2&addr=host3:port3).
	RedisCluster   bool          `yaml:"redis_cluster"`
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

// load builds the configuration from the YAML file, the environment and args.
func load(args []string, fs *flag.FlagSet) (*Config, error) {
	c := &Config{StaleFactsMax: facts.DefaultStaleMax}
	configFile := fs.String("config", os.Getenv("VERDICT_CONFIG"), "YAML configuration file")
	// Flags are registered on a scratch config, then applied only when set.
	f := &Config{}
	fs.StringVar(&f.Addr, "addr", "", "listen address (default 127.0.0.1:8181)")
	fs.StringVar(&f.RedisURL, "redis-url", "", "Redis URL (env VERDICT_REDIS_URL)")
	fs.BoolVar(&f.Dev, "dev", false, "development mode: embedded Redis-protocol store seeded with the demo org, sign-in off")
	fs.StringVar(&f.Auth, "auth", "", "caller sign-in: oidc (default) or none")
	fs.StringVar(&f.OIDCIssuer, "oidc-issuer", "", "OIDC issuer URL (env VERDICT_OIDC_ISSUER)")
	fs.StringVar(&f.OIDCAudience, "oidc-audience", "", "OIDC audience (env VERDICT_OIDC_AUDIENCE)")
	fs.StringVar(&f.DefaultOrg, "default-org", "", "org of requests without context.org")
	fs.StringVar(&f.BootstrapAdmin, "bootstrap-admin", "", "token subject that may administer an org that has no data yet")
	fs.StringVar(&f.DecisionLog, "decision-log", "", `decision log: "-" for stdout or a file path`)
	fs.StringVar(&f.TLSCert, "tls-cert", "", "TLS certificate (PEM)")
	fs.StringVar(&f.TLSKey, "tls-key", "", "TLS key (PEM)")
	fs.StringVar(&f.TLSClientCA, "tls-client-ca", "", "require client certificates signed by this CA (mutual TLS)")
	fs.Int64Var(&f.MaxBodyBytes, "max-body-bytes", 0, "largest decision request body (default 1 MiB)")
	fs.DurationVar(&f.RequestTimeout, "request-timeout", 0, "time limit of one request (default 5s)")
	fs.DurationVar(&f.ReadyTimeout, "ready-timeout", 0, "time limit of /ready; a slower check is reported slow (default 1s)")
	fs.DurationVar(&f.CacheMaxAge, "cache-max-age", 0, "trust cached facts this long without a change-feed event (default 60s)")
	fs.DurationVar(&f.StaleFactsMax, "stale-facts-max", facts.DefaultStaleMax, "while Redis is unreachable, cached facts answer (marked stale) only if at most this old; 0 fails closed at once")
	fs.BoolVar(&f.RedisCluster, "redis-cluster", false, "--redis-url names a Redis Cluster (redis://host:port?addr=host2:port2&...)")
	fs.IntVar(&f.FactsCache, "facts-cache", 0, "subject facts kept, in entries (default 1000)")
	fs.IntVar(&f.DecisionCache, "decision-cache", 0, "answers kept, in entries (default 10000; -1: off)")
	fs.IntVar(&f.MemoryLimitMiB, "memory-limit-mib", 0, "soft limit of the Go heap in MiB (default 200; -1: runtime defaults)")
	fs.StringVar(&f.DebugAddr, "debug-addr", "", "serve pprof profiles at this address (off by default)")
	fs.StringVar(&f.BundleSigningKey, "bundle-signing-key", "", "PEM private key (RSA or EC) signing the bundles served to edges")
	fs.Var((*dirsFlag)(&f.PolicyDirs), "policy-dir", "extension policies: every .rego and data.json under DIR (repeatable; reloaded on SIGHUP)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if *configFile != "" {
		b, err := os.ReadFile(*configFile)
		if err != nil {
			return nil, err
		}
		dec := yaml.NewDecoder(strings.NewReader(string(b)))
		dec.KnownFields(true)
		if err := dec.Decode(c); err != nil {
			return nil, fmt.Errorf("%s: %w", *configFile, err)
		}
	}
	env := func(dst *string, name string) {
		if v := os.Getenv(name); v != "" {
			*dst = v
		}
	}
	env(&c.RedisURL, "VERDICT_REDIS_URL")
	env(&c.OIDCIssuer, "VERDICT_OIDC_ISSUER")
	env(&c.OIDCAudience, "VERDICT_OIDC_AUDIENCE")
	env(&c.Auth, "VERDICT_AUTH")
	env(&c.DefaultOrg, "VERDICT_DEFAULT_ORG")
	env(&c.Addr, "VERDICT_ADDR")
	env(&c.BundleSigningKey, "VERDICT_BUNDLE_SIGNING_KEY")
	fs.Visit(func(fl *flag.Flag) {
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
		}
	})
	return c, c.Validate()
}

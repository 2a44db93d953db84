package edge

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"github.com/verdict-pdp/verdict/internal/bundle"
	"github.com/verdict-pdp/verdict/internal/engine"
	"github.com/verdict-pdp/verdict/internal/verr"
)

// Config of an edge PDP.
type Config struct {
	// Bundles are bundle URLs (http(s)://central/bundles/{org}/{env|all}.tar.gz)
	// or archive files, one per org.
	Bundles []string
	// VerificationKey verifies every bundle; required: an unsigned bundle is
	// never activated.
	VerificationKey bundle.VerificationKey
	// DataDir keeps the last good bundle of each URL source, so that the
	// edge starts deciding when the control plane is down. "" keeps nothing.
	DataDir string
	// DefaultOrg answers requests that name no context.org.
	DefaultOrg string
	// BearerTokenFile, when set, is sent as the bearer token of bundle
	// requests; it is read again for every request, so a sidecar may rotate it.
	BearerTokenFile string
	// CACert verifies the central PDP's TLS certificate (PEM file).
	CACert string
	// LongPoll is how long the central PDP may hold a bundle request open
	// waiting for a change (default 30s; it answers at once on a change).
	LongPoll time.Duration
	// MaxRetryDelay bounds the wait between failed downloads (default 5s):
	// how soon an edge cut off catches up once the network is back.
	MaxRetryDelay time.Duration
	// FilePoll is how often file bundles are checked for a new version
	// (default 2s; they are read again when their modification time moves).
	FilePoll time.Duration
	// DataPathsMax bounds the prepared queries OPA's data API keeps (default
	// engine.DefaultDataPathsMax; least recently used forgotten, all of
	// them at every activation). Only paths the active bundles define are
	// prepared (engine.DataPath).
	DataPathsMax int
	Log          *slog.Logger
}

// Validate checks the configuration and fills defaults.
func (c *Config) Validate() error {
	if len(c.Bundles) == 0 {
		return verr.New(verr.InvalidInput, "bundle", "at least one --bundle URL or file is required")
	}
	if c.VerificationKey.PEM == "" {
		return verr.New(verr.InvalidInput, "verification-key", "required: an edge only runs signed bundles")
	}
	if c.LongPoll <= 0 {
		c.LongPoll = 30 * time.Second
	}
	if c.MaxRetryDelay <= 0 {
		c.MaxRetryDelay = 5 * time.Second
	}
	if c.FilePoll <= 0 {
		c.FilePoll = 2 * time.Second
	}
	if c.DataPathsMax < 0 {
		return verr.New(verr.InvalidInput, "data-paths-max", "must not be negative")
	}
	if c.DataPathsMax == 0 {
		c.DataPathsMax = engine.DefaultDataPathsMax
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	return nil
}

// source is one configured bundle.
type source struct {
	Name     string // OPA's bundle name: "<org>.<env>" for Verdict URLs, else the file's base name
	URL      *url.URL
	File     string // absolute path, for file bundles
	Location string // as given
}

// sources names the configured bundles uniquely.
func sources(list []string) ([]source, error) {
	out := make([]source, 0, len(list))
	seen := map[string]int{}
	for _, loc := range list {
		s := source{Location: loc}
		u, err := url.Parse(loc)
		switch {
		case err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "":
			s.URL = u
			s.Name = nameOfPath(u.Path)
		case err == nil && u.Scheme == "file":
			s.File = u.Path
		default:
			s.File = loc
		}
		if s.File != "" {
			abs, err := filepath.Abs(s.File)
			if err != nil {
				return nil, verr.Wrap(verr.InvalidInput, "bundle", err, "%s: %v", loc, err)
			}
			s.File = abs
			s.Name = strings.TrimSuffix(strings.TrimSuffix(filepath.Base(abs), ".gz"), ".tar")
		}
		if s.Name == "" {
			s.Name = "bundle"
		}
		if n := seen[s.Name]; n > 0 {
			seen[s.Name]++
			s.Name = fmt.Sprintf("%s~%d", s.Name, n+1)
		} else {
			seen[s.Name] = 1
		}
		out = append(out, s)
	}
	return out, nil
}

// nameOfPath names a bundle URL: ".../bundles/acme/prod.tar.gz" is
// "acme.prod" (org ids and environments hold no dot); other paths their
// last segment.
func nameOfPath(p string) string {
	p = strings.TrimSuffix(strings.TrimSuffix(p, ".gz"), ".tar")
	parts := strings.Split(strings.Trim(p, "/"), "/")
	if n := len(parts); n >= 3 && parts[n-3] == "bundles" {
		return parts[n-2] + "." + parts[n-1]
	}
	return parts[len(parts)-1]
}

// opaConfig is the OPA configuration the edge runs with: one service per
// central PDP, one bundle per source, signatures required with the one key,
// long polling, and persistence of downloaded bundles.
func opaConfig(c *Config, srcs []source) ([]byte, error) {
	services := map[string]any{}
	serviceOf := map[string]string{}
	bundles := map[string]any{}
	for _, s := range srcs {
		b := map[string]any{
			"signing": map[string]any{"keyid": bundle.KeyID},
		}
		if s.URL == nil {
			b["resource"] = (&url.URL{Scheme: "file", Path: s.File}).String()
			// A file is its own persistence (OPA cannot persist what it did
			// not download).
			b["persist"] = false
		} else {
			base := s.URL.Scheme + "://" + s.URL.Host
			svc, ok := serviceOf[base]
			if !ok {
				svc = fmt.Sprintf("central%d", len(serviceOf))
				serviceOf[base] = svc
				conf := map[string]any{"url": base, "response_header_timeout_seconds": 10}
				if c.BearerTokenFile != "" {
					conf["credentials"] = map[string]any{"bearer": map[string]any{"token_path": c.BearerTokenFile}}
				}
				if c.CACert != "" {
					conf["tls"] = map[string]any{"ca_cert": c.CACert}
				}
				services[svc] = conf
			}
			resource := s.URL.EscapedPath()
			if s.URL.RawQuery != "" {
				resource += "?" + s.URL.RawQuery
			}
			b["service"] = svc
			b["resource"] = resource
			b["persist"] = c.DataDir != ""
			b["polling"] = map[string]any{
				"min_delay_seconds":            1,
				"max_delay_seconds":            max(1, int64(c.MaxRetryDelay/time.Second)),
				"long_polling_timeout_seconds": max(1, int64(c.LongPoll/time.Second)),
			}
		}
		bundles[s.Name] = b
	}
	conf := map[string]any{
		"services": services,
		"bundles":  bundles,
		"keys": map[string]any{bundle.KeyID: map[string]any{
			"key": c.VerificationKey.PEM, "algorithm": c.VerificationKey.Alg,
		}},
	}
	if c.DataDir != "" {
		dir, err := filepath.Abs(c.DataDir)
		if err != nil {
			return nil, verr.Wrap(verr.InvalidInput, "data-dir", err, "%v", err)
		}
		conf["persistence_directory"] = dir
	}
	return json.Marshal(conf)
}

package serve

import (
	"bytes"
	"flag"
	"os"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

const example = "../../../verdict.example.yaml"

// clearEnv unsets every variable serve reads, for the test's duration.
func clearEnv(t *testing.T) {
	c, _ := command(&Config{})
	c.VisitAll(func(f *flag.Flag) {
		if v := c.EnvOf(f.Name); v != "" {
			t.Setenv(v, "")
		}
	})
}

// TestExampleConfigLoads loads verdict.example.yaml as `verdict serve
// --config` does and checks the configuration it gives, and that the file
// names every key of Config, each after a comment.
func TestExampleConfigLoads(t *testing.T) {
	clearEnv(t)
	var out, errOut bytes.Buffer
	cfg, code, ok := load([]string{"--config", example}, &out, &errOut)
	if !ok {
		t.Fatalf("load: exit %d: %s", code, errOut.String())
	}
	want := &Config{
		Addr: "127.0.0.1:8181", RedisURL: "redis://127.0.0.1:6379/0", Auth: "oidc",
		OIDCIssuer: "https://idp.example.com/realms/platform", OIDCAudience: "verdict",
		MaxBodyBytes: 1 << 20, RequestTimeout: 5 * time.Second, CacheMaxAge: 60 * time.Second, StaleFactsMax: 15 * time.Second,
		ReadyTimeout: time.Second, RedisPoolSize: 32,
		FactsCache: 1000, DecisionCache: 10000, MemoryLimitMiB: 200, PolicyDirs: []string{},
		AccessLog: "all", OTLPSampleRatio: 1,
		MaxRequests: 1024, MaxLongPolls: 1024, DataPathsMax: 512,
		ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: 60 * time.Second, IdleTimeout: 120 * time.Second,
	}
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("config\n%+v\nwant\n%+v", cfg, want)
	}

	raw, err := os.ReadFile(example)
	if err != nil {
		t.Fatal(err)
	}
	var keys map[string]any
	if err := yaml.Unmarshal(raw, &keys); err != nil {
		t.Fatal(err)
	}
	var have, fields []string
	for k := range keys {
		have = append(have, k)
	}
	ty := reflect.TypeOf(Config{})
	for i := range ty.NumField() {
		fields = append(fields, strings.Split(ty.Field(i).Tag.Get("yaml"), ",")[0])
	}
	sort.Strings(have)
	sort.Strings(fields)
	if !reflect.DeepEqual(have, fields) {
		t.Errorf("the example's keys %v, Config's %v", have, fields)
	}
	// Documented: the line above each key (or above its group) is a comment.
	lines := strings.Split(string(raw), "\n")
	for i, l := range lines {
		if l == "" || strings.HasPrefix(l, "#") || strings.HasPrefix(l, " ") {
			continue
		}
		j := i - 1
		for j >= 0 && !strings.HasPrefix(lines[j], "#") && lines[j] != "" {
			j-- // keys grouped under one comment
		}
		if j < 0 || lines[j] == "" {
			t.Errorf("line %d %q has no comment above it", i+1, l)
		}
	}
}

// TestConfigPrecedence: the file, then the environment, then flags.
func TestConfigPrecedence(t *testing.T) {
	clearEnv(t)
	t.Setenv("VERDICT_FACTS_CACHE", "7")
	t.Setenv("VERDICT_DECISION_CACHE", "8")
	t.Setenv("VERDICT_ADDR", "127.0.0.1:9")
	var out, errOut bytes.Buffer
	cfg, code, ok := load([]string{"--config", example, "--decision-cache", "9"}, &out, &errOut)
	if !ok {
		t.Fatalf("load: exit %d: %s", code, errOut.String())
	}
	if cfg.FactsCache != 7 || cfg.DecisionCache != 9 || cfg.Addr != "127.0.0.1:9" || cfg.MemoryLimitMiB != 200 {
		t.Errorf("facts %d decision %d addr %q memory %d; want 7 (env over file), 9 (flag over env), 127.0.0.1:9, 200 (file)",
			cfg.FactsCache, cfg.DecisionCache, cfg.Addr, cfg.MemoryLimitMiB)
	}
	t.Setenv("VERDICT_FACTS_CACHE", "many")
	if _, code, ok := load([]string{"--config", example}, &out, &errOut); ok || code != 2 || !strings.Contains(errOut.String(), "VERDICT_FACTS_CACHE (for --facts-cache)") {
		t.Errorf("a bad variable: ok %v exit %d: %s", ok, code, errOut.String())
	}
}

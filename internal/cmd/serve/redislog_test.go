package serve

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
)

// TestRedisLoggerWritesJSON: go-redis's lines (they end with a newline and
// carry printf verbs) become one JSON record each, like the rest of the log.
func TestRedisLoggerWritesJSON(t *testing.T) {
	var buf bytes.Buffer
	l := redisLogger{slog.New(slog.NewJSONHandler(&buf, nil))}
	l.Printf(context.Background(), "redis: connection pool: failed to dial after %d attempts: %v\n", 5, "connection refused")
	l.Printf(context.Background(), "plain %s", "line")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	want := []string{"redis: connection pool: failed to dial after 5 attempts: connection refused", "plain line"}
	if len(lines) != len(want) {
		t.Fatalf("%d lines: %s", len(lines), buf.String())
	}
	for i, line := range lines {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("not JSON: %s", line)
		}
		if rec["msg"] != want[i] || rec["component"] != "go-redis" || rec["level"] != "WARN" {
			t.Errorf("record %v", rec)
		}
	}
}

package serve

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
)

// redisLogger hands go-redis's log lines (connection pool trouble,
// reconnects) to slog, so they come out as JSON records like every other
// line of the server instead of plain text in the middle of the JSON log.
// go-redis keeps one logger per process (redis.SetLogger), so Run sets it,
// not Start.
type redisLogger struct{ log *slog.Logger }

func (l redisLogger) Printf(ctx context.Context, format string, v ...any) {
	msg := strings.TrimSpace(fmt.Sprintf(format, v...))
	l.log.WarnContext(ctx, msg, "component", "go-redis")
}

package edge

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/open-policy-agent/opa/v1/logging"
)

// opaLogger sends OPA's logs (bundle downloads, verification failures,
// activations) to the edge's structured log.
type opaLogger struct {
	log   *slog.Logger
	level logging.Level
}

func newOPALogger(l *slog.Logger) *opaLogger { return &opaLogger{log: l, level: logging.Info} }

func (l *opaLogger) emit(lv logging.Level, sl slog.Level, f string, a []any) {
	if lv > l.level {
		return
	}
	l.log.Log(context.Background(), sl, fmt.Sprintf(f, a...), "component", "opa")
}

func (l *opaLogger) Debug(f string, a ...any) { l.emit(logging.Debug, slog.LevelDebug, f, a) }
func (l *opaLogger) Info(f string, a ...any)  { l.emit(logging.Info, slog.LevelInfo, f, a) }
func (l *opaLogger) Warn(f string, a ...any)  { l.emit(logging.Warn, slog.LevelWarn, f, a) }
func (l *opaLogger) Error(f string, a ...any) { l.emit(logging.Error, slog.LevelError, f, a) }

func (l *opaLogger) WithFields(fields map[string]any) logging.Logger {
	args := make([]any, 0, 2*len(fields))
	for k, v := range fields {
		args = append(args, k, v)
	}
	return &opaLogger{log: l.log.With(args...), level: l.level}
}

func (l *opaLogger) GetLevel() logging.Level   { return l.level }
func (l *opaLogger) SetLevel(lv logging.Level) { l.level = lv }

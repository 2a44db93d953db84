package api

import (
	"context"
	"net/http"
	"sort"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/verdict-pdp/verdict/internal/verr"
)

// checkResult is one check's line in /ready.
type checkResult struct {
	Status  string `json:"status"` // ok, failed, slow
	Message string `json:"message,omitempty"`
}

// ready runs every readiness check at once and answers within
// ReadyTimeout whatever they do: a check still running then is reported
// "slow" (its context is cancelled), so an orchestrator's probe never hangs
// on a Redis that accepts connections and answers nothing.
func (s *Server) ready(c *gin.Context) {
	checks := map[string]func(context.Context) error{}
	for name, f := range s.ReadyChecks {
		checks[name] = f
	}
	if s.Ready != nil {
		checks["pdp"] = s.Ready
	}
	ctx, cancel := context.WithTimeout(c.Request.Context(), s.cfg.ReadyTimeout)
	defer cancel()
	type done struct {
		name string
		err  error
	}
	ch := make(chan done, len(checks)) // buffered: a late check never blocks
	for name, f := range checks {
		go func() { ch <- done{name, f(ctx)} }()
	}
	results := map[string]checkResult{}
	for name := range checks {
		results[name] = checkResult{Status: "slow", Message: "no answer within " + s.cfg.ReadyTimeout.String()}
	}
	timer := time.NewTimer(s.cfg.ReadyTimeout)
	defer timer.Stop()
wait:
	for range checks {
		select {
		case d := <-ch:
			r := checkResult{Status: "ok"}
			if d.err != nil {
				r = checkResult{Status: "failed", Message: verr.As(d.err).Message}
				if ctx.Err() != nil {
					r = results[d.name] // it gave up because time ran out
				}
			}
			results[d.name] = r
		case <-timer.C:
			break wait
		}
	}
	names := make([]string, 0, len(results))
	for n := range results {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if r := results[n]; r.Status != "ok" {
			c.JSON(http.StatusServiceUnavailable, gin.H{"status": "unavailable", "reason": n + ": " + r.Status + ": " + r.Message,
				"checks": results, "policy_revision": s.PDP.Revision()})
			return
		}
	}
	c.JSON(http.StatusOK, gin.H{"status": "ready", "checks": results, "policy_revision": s.PDP.Revision()})
}

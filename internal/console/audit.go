package console

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/verdict-pdp/verdict/internal/store"
)

// auditScan bounds the audit entries one page reads; auditShow what it shows.
const (
	auditScan = 20000
	auditShow = 500
)

// audit shows the org's audit trail, newest first, filtered by actor and
// target (each a case-insensitive substring).
func (con *Console) audit(c *gin.Context) {
	if err := con.check(c, "org", "", "org_runtime_users_read"); err != nil {
		con.fail(c, err)
		return
	}
	ctx, cancel := reqCtx(c)
	defer cancel()
	org := sessionOf(c).Org
	actorQ, targetQ := strings.TrimSpace(c.Query("actor")), strings.TrimSpace(c.Query("target"))
	var all []store.AuditEntry
	cursor := ""
	for len(all) < auditScan {
		p, err := con.cfg.Store.Audit(ctx, org, cursor, 1000)
		if err != nil {
			con.fail(c, err)
			return
		}
		all = append(all, p.Entries...)
		if p.Next == "" {
			break
		}
		cursor = p.Next
	}
	match := func(s, q string) bool { return q == "" || strings.Contains(strings.ToLower(s), strings.ToLower(q)) }
	var shown []store.AuditEntry
	for i := len(all) - 1; i >= 0 && len(shown) < auditShow; i-- {
		if e := all[i]; match(e.Actor, actorQ) && match(e.Target, targetQ) {
			shown = append(shown, e)
		}
	}
	con.render(c, http.StatusOK, "audit", "Audit trail", "audit", map[string]any{
		"Entries": shown, "Actor": actorQ, "Target": targetQ, "Truncated": len(all) >= auditScan})
}

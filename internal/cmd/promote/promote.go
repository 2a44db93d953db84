// Package promote is `verdict promote --org O --project P --from uat --to
// prod [--apply]`: a project's default policy, username and group overrides
// and shares copied from one environment to another, as a diff; a dry run
// unless --apply, which writes it in one audited transaction (the admin
// API's POST .../projects/{project}/promotion, same rules). It exits 1 when
// the promotion is refused (a share the target's build cannot hold, a
// priority taken) or fails, 2 on a usage error.
package promote

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/verdict-pdp/verdict/internal/admin/domain"
	"github.com/verdict-pdp/verdict/internal/cmd/cliflag"
	"github.com/verdict-pdp/verdict/internal/store"
)

// Run runs the command.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c := cliflag.New("promote", "--org ORG --project P --from ENV --to ENV [--apply] --redis-url URL [flags]",
		`Copies a project's runtime settings from one environment to another (docs/review.md): the
default of the active policy (the build served), the username and group overrides and the
shares, so that the target decides as the source does. Prints the diff; a dry run unless
--apply, which writes it in one audited transaction. A share of a role the target's active
build lacks, or a group override priority taken in the target, refuses the whole promotion.
What only the target has is kept, or removed with --prune. Exits 1 when the promotion is (or
would be) refused or fails, 2 on a usage error.`,
		"verdict promote --org acme --project loans --from uat --to prod --redis-url redis://127.0.0.1:6379",
		"verdict promote --org acme --project loans --from uat --to prod --apply --justification 'release 42'")
	org := c.String("org", "", "the org `ID`")
	project := c.String("project", "", "the project `ID`")
	from := c.String("from", "", "source environment")
	to := c.String("to", "", "target environment")
	apply := c.Bool("apply", false, "write the promotion (default: dry run)")
	prune := c.Bool("prune", false, "remove the target's shares and overrides the source does not have")
	keep := c.Bool("keep-default", false, "keep the target's default policy (its build)")
	url := c.String("redis-url", "", "Redis `URL`")
	c.Env("redis-url", "VERDICT_REDIS_URL")
	actor := c.String("actor", "verdict promote", "who promotes, for the audit trail")
	why := c.String("justification", "", "why, for the audit trail")
	format := c.String("format", "text", "text or json")
	rest, code, ok := c.Parse(args, stdout, stderr)
	if !ok {
		return code
	}
	switch {
	case *org == "" || *project == "" || *from == "" || *to == "":
		return c.Fail(stderr, "--org, --project, --from and --to are required")
	case len(rest) > 0:
		return c.Fail(stderr, "unexpected argument %q", rest[0])
	case *format != "text" && *format != "json":
		return c.Fail(stderr, "--format must be text or json")
	}
	st, err := store.Open(store.Config{URL: *url})
	if err != nil {
		return c.Fail(stderr, "%v", err)
	}
	defer st.Close()
	d := domain.New(st)
	o := domain.PromotionOptions{From: *from, To: *to, Prune: *prune, KeepDefault: *keep}
	var p *domain.PromotionPlan
	if *apply {
		p, err = d.Promote(ctx, *org, *project, o, store.Actor{Subject: *actor, Justification: *why})
	} else {
		p, err = d.PlanPromotion(ctx, *org, *project, o)
	}
	if err != nil {
		fmt.Fprintf(stderr, "verdict promote: %v\n", err)
		return 1
	}
	if *format == "json" {
		b, _ := json.MarshalIndent(p, "", "  ")
		fmt.Fprintln(stdout, string(b))
	} else {
		Write(stdout, p)
	}
	if len(p.Refused) > 0 {
		return 1
	}
	return 0
}

// Write prints a plan as a diff: + added, ~ changed, - removed, = same,
// (kept) only in the target; then the refusals.
func Write(w io.Writer, p *domain.PromotionPlan) {
	mark := map[string]string{domain.OpAdd: "+", domain.OpChange: "~", domain.OpRemove: "-", domain.OpSame: "=", domain.OpKeep: " "}
	state := "dry run"
	if p.Applied {
		state = fmt.Sprintf("applied at revision %d", p.Revision)
	}
	fmt.Fprintf(w, "promotion of %s from %s to %s (%s); %s then serves build %s\n", p.Project, p.From, p.To, state, p.To, orNone(p.TargetBuild))
	for _, it := range p.Items {
		line := fmt.Sprintf("%s %s", mark[it.Op], it.Target)
		if it.Op == domain.OpKeep {
			line += " (only in " + p.To + ", kept)"
		}
		if it.After != nil && it.Op != domain.OpSame {
			b, _ := json.Marshal(it.After)
			line += "  " + string(b)
		}
		fmt.Fprintln(w, line)
	}
	for _, r := range p.Refused {
		fmt.Fprintf(w, "REFUSED %s: %s\n", r.Target, r.Message)
	}
	fmt.Fprintf(w, "%d changes, %d refused\n", p.Changes(), len(p.Refused))
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

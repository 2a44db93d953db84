// Package gen is `verdict gen --users N --seed S [--out FILE]`: a
// deterministic org document at scale (users, groups with memberships,
// projects with several builds and UI flows, per-environment shares,
// username and group overrides, designer roles), written as it is generated:
// memory stays flat whatever N is. The same N and seed give the same bytes.
//
// `verdict gen --random --seed S` writes instead the small, dense random org
// of the property tests (internal/testutil/orggen: 5–15 users, every field
// of the org document), and with --requests M random requests about it.
package gen

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"

	"strings"

	"github.com/verdict-pdp/verdict/internal/cmd/cliflag"
)

// Config of a generated org.
type Config struct {
	Org      string
	Users    int
	Seed     uint64
	Projects int
	// Requests > 0 writes a request mix about the org instead of the org.
	Requests int
	Mix      string // MixSessions (default) or MixUniform
	// Random writes orggen's random org of Seed (Users, Projects and Mix
	// do not apply); Org, when set, replaces its id.
	Random bool
}

// Validate checks the configuration and fills defaults.
func (c *Config) Validate() error {
	if c.Random {
		if c.Requests < 0 || c.Requests > 100_000_000 {
			return fmt.Errorf("--requests must be in [0, 100000000]")
		}
		return nil
	}
	if c.Users < 1 || c.Users > 50_000_000 {
		return fmt.Errorf("--users must be in [1, 50000000]")
	}
	if c.Org == "" {
		c.Org = "gen"
	}
	if c.Requests < 0 || c.Requests > 100_000_000 {
		return fmt.Errorf("--requests must be in [0, 100000000]")
	}
	switch c.Mix {
	case "":
		c.Mix = MixSessions
	case MixSessions, MixUniform, MixNoRepeat, MixScreens:
	default:
		return fmt.Errorf("--mix must be one of %s", strings.Join(Mixes, ", "))
	}
	if c.Projects <= 0 {
		c.Projects = 20
	}
	if c.Mix == MixScreens && c.Requests > 0 && c.Requests%ScreenSize != 0 {
		return fmt.Errorf("--requests must be a multiple of %d with --mix %s (a screen is %d requests)", ScreenSize, MixScreens, ScreenSize)
	}
	return nil
}

// Run runs the command.
func Run(_ context.Context, args []string, stdout, stderr io.Writer) int {
	cmd := cliflag.New("gen", "--users N [--seed S] [flags]",
		`Writes a deterministic org document at scale (the same --seed gives the same bytes),
streamed, so any size fits in little memory; with --requests M, a mix of M decision
requests about that org instead, as JSON lines for verdict bench. With --random, the
small random org of the property tests for --seed (5-15 users, every field of the org
document; the seed a failing property test prints), or --requests M random requests about it.`,
		"verdict gen --users 10000 --seed 1 --out gen-10k.json",
		"verdict gen --users 10000 --seed 1 --requests 100000 --mix uniform --out req.jsonl",
		"verdict gen --users 1000000 --org big --out big.json && verdict import big.json --redis-url redis://127.0.0.1:6379",
		"verdict gen --random --seed 42 --out rnd-42.json")
	c := Config{}
	cmd.IntVar(&c.Users, "users", 10000, "end users")
	cmd.Uint64Var(&c.Seed, "seed", 1, "random seed")
	cmd.StringVar(&c.Org, "org", "gen", "org id")
	cmd.IntVar(&c.Projects, "projects", 20, "projects")
	cmd.IntVar(&c.Requests, "requests", 0, "write this many decision requests (JSON lines) about the org instead of the org")
	cmd.StringVar(&c.Mix, "mix", MixSessions, "request mix: sessions (users at work in a project), uniform (user, project, environment drawn afresh each time), norepeat (no request ever repeats) or screens (batches of 100 distinct items for one user, project, environment)")
	cmd.BoolVar(&c.Random, "random", false, "the small random org of the property tests (5-15 users, every field) for --seed")
	out := cmd.String("out", "-", "output `FILE` (- for stdout)")
	pos, code, ok := cmd.Parse(args, stdout, stderr)
	if !ok {
		return code
	}
	if len(pos) > 0 {
		return cmd.Fail(stderr, "unexpected argument %q", pos[0])
	}
	if c.Random {
		orgSet := false
		cmd.Visit(func(f *flag.Flag) { orgSet = orgSet || f.Name == "org" })
		if !orgSet {
			c.Org = ""
		}
	}
	if err := c.Validate(); err != nil {
		return cmd.Fail(stderr, "%v", err)
	}
	w := stdout
	if *out != "-" {
		f, err := os.Create(*out)
		if err != nil {
			fmt.Fprintf(stderr, "verdict gen: %v\n", err)
			return 1
		}
		defer f.Close()
		w = f
	}
	write := Write
	switch {
	case c.Random:
		write = WriteRandom
	case c.Requests > 0:
		write = WriteRequests
	}
	if err := write(w, c); err != nil {
		fmt.Fprintf(stderr, "verdict gen: %v\n", err)
		return 1
	}
	return 0
}

var roles = []string{"User", "Clerk", "Manager", "Auditor", "Agent", "Supervisor"}

// A build's screens: uiFlows UI flows (f0…), each with the components of
// componentIDs, and one process "pr" with the swimlanes of swimlaneIDs. A
// screen's worth of distinct decisions (flows, components, swimlane rights:
// over 100) comes out of one build.
const uiFlows = 10

var (
	componentIDs = []string{"btn", "c1", "c2", "c3", "c4", "c5", "c6", "c7"}
	swimlaneIDs  = []string{"s", "intake", "review", "approve"}
	laneActions  = []string{"view", "execute", "self_assign"}
	// Rights per role in each swimlane (JSON, written as is).
	swimlanesJSON = `{"s":{"Manager":["view","execute","self_assign"]},` +
		`"intake":{"Clerk":["view","execute","self_assign"],"Agent":["self_assign"]},` +
		`"review":{"Auditor":["view"],"Supervisor":["view","execute"]},` +
		`"approve":{"Manager":["execute"],"Supervisor":["view","execute","self_assign"]}}`
)

// componentRule is component k of UI flow f: btn is hidden for Clerk (as it
// always was); the others hide or disable one role each, varying by flow.
func componentRule(f, k int) string {
	switch {
	case k == 0:
		return `{"hidden_for":["Clerk"]}`
	case k%2 == 1:
		return fmt.Sprintf(`{"hidden_for":[%q]}`, roles[(f+k)%len(roles)])
	default:
		return fmt.Sprintf(`{"disabled_for":[%q]}`, roles[(f+k)%len(roles)])
	}
}

var envs = []string{"dev", "uat", "prod"}

// Write streams the org document.
func Write(w io.Writer, c Config) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	r := rand.New(rand.NewPCG(c.Seed, c.Seed^0x9e3779b97f4a7c15))
	enc := func(v any) string { b, _ := json.Marshal(v); return string(b) }
	groups := max(c.Users/200, 2)
	p := func(format string, a ...any) { fmt.Fprintf(bw, format, a...) }
	p(`{"org":%s,"environments":%s,"workspaces":[{"id":"w0"},{"id":"w1"}],"users":[`, enc(c.Org), enc(envs))
	for i := range c.Users {
		if i > 0 {
			p(",")
		}
		u := map[string]any{"id": fmt.Sprintf("u%d", i), "username": fmt.Sprintf("user%d", i), "status": "active",
			"attributes": map[string]any{"region": []string{[]string{"eu", "us", "ca", "jp"}[r.IntN(4)]}}}
		if i%100 == 99 {
			u["status"] = "disabled"
		}
		if i%50 == 7 {
			u["designer_user"] = true
		}
		p("%s", enc(u))
	}
	p(`],"roles":[`)
	for i, ro := range roles {
		if i > 0 {
			p(",")
		}
		p(`{"name":%s}`, enc(ro))
	}
	// Each group holds a contiguous block of users plus a few others, so
	// memberships are deterministic and written without keeping them.
	p(`],"groups":[`)
	for g := range groups {
		if g > 0 {
			p(",")
		}
		p(`{"name":"g%d","attributes":{"department":[%s]},"members":[`, g, enc(fmt.Sprintf("d%d", g%10)))
		lo := g * c.Users / groups
		hi := (g + 1) * c.Users / groups
		for u := lo; u < hi; u++ {
			if u > lo {
				p(",")
			}
			p(`"u%d"`, u)
		}
		p(`]}`)
	}
	p(`],"designer_groups":[{"name":"devs","members":["u7","u57"]}],"designer_roles":[`)
	p(`{"subject":{"user":"u0"},"role":"org_admin","scope":{"org":true}},{"subject":{"group":"devs"},"role":"project_editor","scope":{"project":"p0"}}`)
	p(`],"projects":[`)
	for pi := range c.Projects {
		if pi > 0 {
			p(",")
		}
		p(`{"id":"p%d","workspace":"w%d","builds":[`, pi, pi%2)
		for b := range 3 {
			if b > 0 {
				p(",")
			}
			p(`{"id":"b%d","branch":%s,"created":"2026-0%d-01T00:00:00Z","roles":%s,"ui_flows":[`, b, enc([]string{"main", "main", "beta"}[b]), b+1, enc(roles))
			for f := range uiFlows {
				if f > 0 {
					p(",")
				}
				p(`{"id":"f%d","roles":%s,"components":{`, f, enc(roles[f%3:f%3+3]))
				for k, c := range componentIDs {
					if k > 0 {
						p(",")
					}
					p(`%s:%s`, enc(c), componentRule(f, k))
				}
				p(`}}`)
			}
			p(`],"processes":[{"id":"pr","roles":["Clerk","Manager"],"swimlanes":%s}]}`, swimlanesJSON)
		}
		p(`],"environments":{`)
		for ei, e := range envs {
			if ei > 0 {
				p(",")
			}
			p(`%s:{"active_policy":{"default":{"build":"b0"},"overrides":[{"type":"username","username":"user%d","policy":{"build":"b1"}},{"type":"group","group":"g%d","priority":1,"policy":{"latest_on_branch":"beta"}}]},"shares":[`,
				enc(e), r.IntN(c.Users), r.IntN(groups))
			// A share to every group (a role each), and one to a few users.
			for g := range groups {
				if g > 0 {
					p(",")
				}
				p(`{"subject":{"group":"g%d"},"roles":[%s]}`, g, enc(roles[(g+pi)%len(roles)]))
			}
			seen := map[int]bool{}
			for range 5 {
				u := r.IntN(c.Users)
				if seen[u] {
					continue
				}
				seen[u] = true
				p(`,{"subject":{"user":"u%d"},"roles":["Manager"]}`, u)
			}
			p(`]}`)
		}
		p(`},"flow_permissions":{"defaults":{"roles":{"NonAuthenticatedUser":"deny"}},"flows":{"sync":{"roles":{"Clerk":"grant","Auditor":"deny"}}}}}`)
	}
	p(`],"business_filters":[{"id":"by_region","field":"loans.region","attribute":"region"}]}`)
	p("\n")
	return bw.Flush()
}

// Package manifest is `verdict manifest`: the permission manifest of one user
// in one solution and environment, from a running PDP (--url) or in-process
// from an org document (--org-file), as text a person reads or as JSON.
package manifest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/verdict-pdp/verdict/internal/assemble"
	"github.com/verdict-pdp/verdict/internal/cmd/cliflag"
	"github.com/verdict-pdp/verdict/internal/conformance"
	"github.com/verdict-pdp/verdict/internal/decision"
	"github.com/verdict-pdp/verdict/internal/engine"
	"github.com/verdict-pdp/verdict/internal/orgdoc"
	"github.com/verdict-pdp/verdict/internal/pdp"
	"github.com/verdict-pdp/verdict/internal/policyload"
)

// Run runs the command: 0 when the manifest was answered, 1 when it could
// not be, 2 on a usage or input error.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c := cliflag.New("manifest", "(--url URL | --org-file FILE) [--org ORG] --user USER --project PROJECT --env ENV [flags]",
		`Prints the permission manifest of a user in a solution (project) and environment: the build
served and the rule that chose it, the UI flows they may launch and each component's state,
the processes they may start and their rights on each swimlane, the automation flows they may
run (those with entries in the project's flow permissions, and the default for others). Asked
of a running PDP (--url, POST /v1/manifest) or answered in-process from an org document or a
corpus (--org-file). Each answer is the one a single decision gives.`,
		"verdict manifest --org-file data/demo.json --user u-tom --project mortgage --env prod",
		"verdict manifest --url http://127.0.0.1:8181 --org demo --user u-lee --project mortgage --env prod --explain",
		"verdict manifest --org-file data/demo.json --user u-maria --project mortgage --env prod --json")
	url := c.String("url", "", "ask a running PDP at this base `URL`")
	token := c.String("token", "", "caller bearer `TOKEN` sent with --url")
	c.Env("token", "VERDICT_TOKEN")
	orgFile := c.String("org-file", "", "decide in-process from this org document or corpus `FILE`")
	var req decision.ManifestRequest
	c.StringVar(&req.Org, "org", "", "`ORG` (default: the file's only org, or the PDP's default org)")
	c.StringVar(&req.User, "user", "", "end user `ID` (required)")
	c.StringVar(&req.Project, "project", "", "solution (project) `ID` (required)")
	c.StringVar(&req.Environment, "env", "", "`ENVIRONMENT` (required)")
	c.BoolVar(&req.Explain, "explain", false, "give the reasons of every answer")
	asJSON := c.Bool("json", false, "print the manifest as JSON")
	var dirs []string
	c.Func("policy-dir", "extension policies with --org-file: every .rego and data.json under `DIR` (repeatable)", func(v string) error { dirs = append(dirs, v); return nil })
	pos, code, ok := c.Parse(args, stdout, stderr)
	if !ok {
		return code
	}
	if len(pos) > 0 {
		return c.Fail(stderr, "unexpected argument %q", pos[0])
	}
	if (*url == "") == (*orgFile == "") {
		return c.Fail(stderr, "give exactly one of --url, --org-file")
	}
	for _, f := range [...]struct{ name, v string }{{"--user", req.User}, {"--project", req.Project}, {"--env", req.Environment}} {
		if f.v == "" {
			return c.Fail(stderr, "%s is required", f.name)
		}
	}
	var m decision.Manifester
	if *url != "" {
		remote := conformance.NewRemote(*url, *token)
		if err := remote.Err(); err != nil {
			return c.Fail(stderr, "--url: %v", err)
		}
		m = remote
	} else {
		svc, org, err := inProcess(ctx, *orgFile, dirs)
		if err != nil {
			fmt.Fprintf(stderr, "verdict manifest: %v\n", err)
			return 2
		}
		if req.Org == "" {
			req.Org = org
		}
		m = svc
	}
	out, err := m.Manifest(ctx, req)
	if err != nil {
		fmt.Fprintf(stderr, "verdict manifest: %v\n", err)
		return 1
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(out)
		return 0
	}
	fmt.Fprint(stdout, Text(out))
	return 0
}

// inProcess decides over an org document (or a corpus's orgs); org is the
// document's org when it holds exactly one.
func inProcess(ctx context.Context, path string, dirs []string) (*pdp.Service, string, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, "", err
	}
	var orgs []orgdoc.Org
	var probe struct {
		Orgs json.RawMessage `json:"orgs"`
	}
	if json.Unmarshal(raw, &probe) == nil && probe.Orgs != nil {
		c, err := orgdoc.DecodeCorpus(raw)
		if err != nil {
			return nil, "", fmt.Errorf("%s: %w", path, err)
		}
		orgs = c.Orgs
	} else {
		o, err := orgdoc.DecodeOrg(raw)
		if err != nil {
			return nil, "", fmt.Errorf("%s: %w", path, err)
		}
		orgs = []orgdoc.Org{*o}
	}
	set, err := policyload.Load(dirs, false)
	if err != nil {
		return nil, "", err
	}
	eng, err := engine.New(ctx, engine.Config{Modules: set.Modules, Data: set.Data})
	if err != nil {
		return nil, "", err
	}
	org := ""
	if len(orgs) == 1 {
		org = orgs[0].Org
	}
	svc, err := pdp.New(pdp.Config{DefaultOrg: org}, eng, assemble.NewDocSource(orgs))
	return svc, org, err
}

// Text renders a manifest for a person: what the user may open and do, and
// why when the manifest was asked with explain.
func Text(m decision.Manifest) string {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s in solution %s, environment %s (org %s)\n", m.User, m.Project, m.Environment, m.Org)
	if m.Access.Decision {
		fmt.Fprintf(&b, "access: yes, build %s (%s)\n", m.Build, strings.ReplaceAll(m.Rule, "_", " "))
	} else {
		fmt.Fprintf(&b, "access: no (%v)\n", m.Access.Context["reason"])
	}
	reasons(&b, "  ", m.Access)
	if len(m.UIFlows) > 0 {
		b.WriteString("UI flows:\n")
	}
	for _, id := range keys(m.UIFlows) {
		f := m.UIFlows[id]
		fmt.Fprintf(&b, "  %s: %s\n", id, verdict(f.Launch, "launch"))
		reasons(&b, "    ", f.Launch)
		for _, c := range keys(f.Components) {
			fmt.Fprintf(&b, "    component %s: %v\n", c, f.Components[c].Context["state"])
			reasons(&b, "      ", f.Components[c])
		}
		if len(f.Components) > 0 {
			fmt.Fprintf(&b, "    other components: %v\n", f.OtherComponents.Context["state"])
		}
	}
	if len(m.Processes) > 0 {
		b.WriteString("processes:\n")
	}
	for _, id := range keys(m.Processes) {
		p := m.Processes[id]
		fmt.Fprintf(&b, "  %s: %s\n", id, verdict(p.Start, "start"))
		reasons(&b, "    ", p.Start)
		for _, s := range keys(p.Swimlanes) {
			var rights []string
			for _, a := range orgdoc.SwimlaneRights {
				if p.Swimlanes[s][a].Decision {
					rights = append(rights, a)
				}
			}
			if len(rights) == 0 {
				rights = []string{"none"}
			}
			fmt.Fprintf(&b, "    swimlane %s: %s\n", s, strings.Join(rights, ", "))
		}
	}
	b.WriteString("automation flows:\n")
	for _, id := range keys(m.Flows.Listed) {
		fmt.Fprintf(&b, "  %s: %s\n", id, verdict(m.Flows.Listed[id], "run"))
		reasons(&b, "    ", m.Flows.Listed[id])
	}
	fmt.Fprintf(&b, "  any other flow: %s\n", verdict(m.Flows.Others, "run"))
	if m.Stale {
		fmt.Fprintf(&b, "(answered from cached facts %d ms old: the store was unreachable)\n", m.StaleAgeMS)
	}
	return b.String()
}

func verdict(d decision.Decision, action string) string {
	why := ""
	if r, ok := d.Context["reason"]; ok {
		why = fmt.Sprintf(" (%v)", r)
	} else if l, ok := d.Context["level"]; ok {
		why = fmt.Sprintf(" (%v level)", l)
	}
	if d.Decision {
		return "may " + action + why
	}
	return "may not " + action + why
}

func reasons(b *bytes.Buffer, indent string, d decision.Decision) {
	rs, _ := d.Context["reasons"].([]any)
	for _, r := range rs {
		if m, ok := r.(map[string]any); ok {
			fmt.Fprintf(b, "%s- %v\n", indent, m["message"])
		}
	}
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

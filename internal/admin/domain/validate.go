package domain

import (
	"errors"
	"fmt"
	"strings"

	"github.com/verdict-pdp/verdict/internal/orgdoc"
	"github.com/verdict-pdp/verdict/internal/verr"
)

// Validation of admin API bodies that orgdoc already has rules for. Rather
// than copy those rules, a body is placed in a minimal org document (just
// the facts its rules refer to) and orgdoc's own Validate runs on it; the
// JSON path of an error is then cut back to the body's own path. The API
// and the import can therefore never disagree on what is valid.

// rebase returns err with its field relative to prefix ("projects[0].builds[0]"
// -> "", "projects[0].builds[0].roles[1]" -> "roles[1]"); other errors pass.
func rebase(err error, prefix string) error {
	var ve *verr.Error
	if !errors.As(err, &ve) {
		return err
	}
	f := ve.Field
	switch {
	case f == prefix:
		f = ""
	case strings.HasPrefix(f, prefix+"."):
		f = f[len(prefix)+1:]
	case strings.HasPrefix(f, prefix+"["):
		f = f[len(prefix):]
	}
	out := *ve
	out.Field = f
	return &out
}

// validateBuild checks a build manifest with orgdoc's build rules against
// the org's role catalog.
func validateBuild(org string, orgRoles []string, b orgdoc.Build) error {
	doc := &orgdoc.Org{Org: org, Projects: []orgdoc.Project{{ID: "p", Workspace: "w", Builds: []orgdoc.Build{b}}}}
	for _, r := range orgRoles {
		doc.Roles = append(doc.Roles, orgdoc.Role{Name: r})
	}
	return rebase(doc.Validate(""), "projects[0].builds[0]")
}

// validateFlowPermissions checks flow permissions with orgdoc's rules;
// users and roles hold the user ids and role names that exist (at least
// those fp names).
func validateFlowPermissions(org string, users, roles []string, fp *orgdoc.FlowPermissions) error {
	doc := &orgdoc.Org{Org: org, Projects: []orgdoc.Project{{ID: "p", Workspace: "w", FlowPermissions: fp}}}
	for _, u := range users {
		// Stand-ins: only the ids matter to the flow permission rules.
		doc.Users = append(doc.Users, orgdoc.User{ID: u, Username: "\x00" + u, Status: orgdoc.StatusActive})
	}
	for _, r := range roles {
		doc.Roles = append(doc.Roles, orgdoc.Role{Name: r})
	}
	return rebase(doc.Validate(""), "projects[0].flow_permissions")
}

// checkPolicy applies orgdoc's policy rule (exactly one of an existing
// build of the project or a non-blank branch) at path.
func checkPolicy(path string, p orgdoc.Policy, buildExists func(string) (bool, error)) error {
	at := func(f string) string {
		if path == "" {
			return f
		}
		return path + "." + f
	}
	switch {
	case (p.Build == "") == (p.LatestOnBranch == ""):
		return verr.New(verr.Invalid, path, "policy must name exactly one of build, latest_on_branch")
	case p.Build != "":
		ok, err := buildExists(p.Build)
		if err != nil {
			return err
		}
		if !ok {
			return verr.New(verr.Invalid, at("build"), "unknown build %q in this project", p.Build)
		}
	case strings.TrimSpace(p.LatestOnBranch) == "":
		return verr.New(verr.Invalid, at("latest_on_branch"), "branch name must not be blank")
	}
	return nil
}

// checkRoles checks a share's role list: at least one role, each an org
// role, none twice.
func checkRoles(roles []string, known func(string) bool) error {
	if len(roles) == 0 {
		return verr.New(verr.Invalid, "roles", "a share must give at least one role")
	}
	seen := map[string]bool{}
	for i, r := range roles {
		p := fmt.Sprintf("roles[%d]", i)
		if !known(r) {
			return verr.New(verr.Invalid, p, "unknown role %q", r)
		}
		if seen[r] {
			return verr.New(verr.Invalid, p, "duplicate role %q", r)
		}
		seen[r] = true
	}
	return nil
}

package domain

import (
	"context"
	"fmt"
	"regexp"
	"slices"

	"github.com/verdict-pdp/verdict/internal/orgdoc"
	"github.com/verdict-pdp/verdict/internal/store"
	"github.com/verdict-pdp/verdict/internal/verr"
)

// Projects and their immutable builds.

// ProjectRecord is a project as the admin API shows it: id, workspace, flow
// permissions and the environments it has settings in (no builds).

// BuildSummary is a build in a list.
type BuildSummary struct {
	ID      string `json:"id"`
	Branch  string `json:"branch"`
	Created string `json:"created"`
}

// projectIDPattern: new project ids appear in keys (builds:<p>,
// env:<p>:<e>), so a ':' or a brace is refused.
var projectIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

// ListProjects pages through an org's projects.
func (d *Admin) ListProjects(ctx context.Context, org, cursor string, limit int) (Page[ProjectRecord], error) {
	return listRecords[ProjectRecord](ctx, d, org, d.st.Keys(org).Projects(), cursor, limit)
}

// GetProject reads one project (without builds).
func (d *Admin) GetProject(ctx context.Context, org, id string) (ProjectRecord, error) {
	return getRecord[ProjectRecord](ctx, d, org, d.st.Keys(org).Projects(), id, "project", "project")
}

// CreateProject creates a project in a workspace of the org. Like orgdoc,
// the workspace is checked whenever the org lists workspaces.
func (d *Admin) CreateProject(ctx context.Context, org, id, workspace string, a store.Actor) (ProjectRecord, int64, error) {
	rec := ProjectRecord{ID: id, Workspace: workspace, Environments: []string{}}
	if !projectIDPattern.MatchString(id) {
		return rec, 0, verr.New(verr.Invalid, "id", "project id %q must match %s", id, projectIDPattern)
	}
	if workspace == "" {
		return rec, 0, verr.New(verr.Invalid, "workspace", "workspace is required")
	}
	rev, err := d.write(ctx, org, a, func(t *txn) (*store.Outcome, error) {
		if len(t.Settings().Workspaces) > 0 {
			var ids []string
			for _, w := range t.Settings().Workspaces {
				ids = append(ids, w.ID)
			}
			if !slices.Contains(ids, workspace) {
				e := verr.New(verr.Invalid, "workspace", "unknown workspace %q", workspace)
				e.Allowed = ids
				return nil, e
			}
		}
		if ok, err := t.HExists(t.k.Projects(), id); err != nil || ok {
			return nil, firstErr(err, verr.New(verr.Conflict, "id", "project %q exists", id))
		}
		seq, err := t.Next()
		if err != nil {
			return nil, err
		}
		t.projects[id] = &projectEntry{rec: rec, seq: seq, dirty: true}
		return &store.Outcome{Action: "project.created", Target: "project/" + id, After: rec, Change: store.Change{Projects: []string{id}}}, nil
	})
	return rec, rev, err
}

// DeleteProject deletes a project with its builds, environments and the
// designer roles scoped to it. The change names All: build ids of a deleted
// project may be given again to other manifests, so build caches must go.
func (d *Admin) DeleteProject(ctx context.Context, org, id, ifMatch string, a store.Actor) (int64, error) {
	return d.write(ctx, org, a, func(t *txn) (*store.Outcome, error) {
		pe, err := t.project(id)
		if err != nil {
			return nil, err
		}
		if err := checkIfMatch(ifMatch, pe.rec, true); err != nil {
			return nil, err
		}
		t.projects[id] = nil // not written back
		t.HDel(t.k.Projects(), id)
		t.Del(t.k.Builds(id))
		for _, env := range pe.rec.Environments {
			t.Del(t.k.Env(id, env))
		}
		removed, err := t.dropDesignerRoles(func(_ string, sa store.SeqAssignment) bool { return sa.Scope.Project == id })
		if err != nil {
			return nil, err
		}
		return &store.Outcome{Action: "project.deleted", Target: "project/" + id, Before: pe.rec,
			After:  map[string]any{"designer_roles_removed": removed},
			Change: store.Change{Projects: []string{id}, All: true}}, nil
	})
}

// ListBuilds pages through a project's builds (id, branch, created).
func (d *Admin) ListBuilds(ctx context.Context, org, project, cursor string, limit int) (Page[BuildSummary], error) {
	if _, err := d.GetProject(ctx, org, project); err != nil {
		return Page[BuildSummary]{}, err
	}
	return listRecords[BuildSummary](ctx, d, org, d.st.Keys(org).Builds(project), cursor, limit)
}

// GetBuild reads one build manifest.
func (d *Admin) GetBuild(ctx context.Context, org, project, id string) (orgdoc.Build, error) {
	if _, err := d.GetProject(ctx, org, project); err != nil {
		return orgdoc.Build{}, err
	}
	return getRecord[orgdoc.Build](ctx, d, org, d.st.Keys(org).Builds(project), id, "build", "build")
}

// ImportBuild adds a build to a project. Builds are immutable: an existing
// id is a Conflict even with an identical manifest, so that an import can
// never be mistaken for a change. The manifest is checked with orgdoc's
// build rules (its role catalog must be org roles; flows, components,
// processes and swimlanes name only catalog roles).
func (d *Admin) ImportBuild(ctx context.Context, org, project string, b orgdoc.Build, a store.Actor) (orgdoc.Build, int64, error) {
	rev, err := d.write(ctx, org, a, func(t *txn) (*store.Outcome, error) {
		if _, err := t.project(project); err != nil {
			return nil, err
		}
		if b.ID != "" {
			if ok, err := t.HExists(t.k.Builds(project), b.ID); err != nil || ok {
				return nil, firstErr(err, verr.New(verr.Conflict, "id", "build %q of project %s exists: builds are immutable", b.ID, project))
			}
		}
		roles, err := t.HKeys(t.k.Roles())
		if err != nil {
			return nil, err
		}
		if err := validateBuild(t.Org(), roles, b); err != nil {
			return nil, err
		}
		// A new build may only list roles of the org's catalog; builds
		// imported earlier keep roles deleted since (they are immutable).
		known := map[string]bool{}
		for _, r := range roles {
			known[r] = true
		}
		for i, r := range b.Roles {
			if !known[r] {
				return nil, verr.New(verr.Invalid, fmt.Sprintf("roles[%d]", i), "unknown role %q: create it first", r)
			}
		}
		seq, err := t.Next()
		if err != nil {
			return nil, err
		}
		t.HSet(t.k.Builds(project), b.ID, store.WithSeq(b, seq))
		return &store.Outcome{Action: "build.imported", Target: "project/" + project + "/builds/" + b.ID,
			After:  BuildSummary{ID: b.ID, Branch: b.Branch, Created: b.Created},
			Change: store.Change{Projects: []string{project}}}, nil
	})
	return b, rev, err
}

package domain

import (
	"context"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/verdict-pdp/verdict/internal/orgdoc"
	"github.com/verdict-pdp/verdict/internal/store"
	"github.com/verdict-pdp/verdict/internal/verr"
)

// Designer role assignments (`droles`: "u:<user>" or "g:<designer group>"
// -> [{"#", role, scope}]). An assignment is addressed by its position,
// which is unique in the org and never reused. Exactly one project_owner
// per project: a second one is refused, and ownership moves only through
// TransferProjectOwner, which swaps the owner in one transaction so that a
// project is never without an owner nor with two.

// DesignerAssignment is one designer role assignment; ID is its position.
type DesignerAssignment struct {
	ID      int64          `json:"id"`
	Subject orgdoc.Subject `json:"subject"`
	Role    string         `json:"role"`
	Scope   orgdoc.Scope   `json:"scope"`
}

// assignments flattens the droles hash, in position order.
func assignments(h map[string]string) ([]DesignerAssignment, error) {
	var out []DesignerAssignment
	for sk, raw := range h {
		var as []store.SeqAssignment
		if err := store.Decode(raw, &as); err != nil {
			return nil, err
		}
		for _, a := range as {
			out = append(out, DesignerAssignment{ID: a.Seq, Subject: store.ParseSubjectKey(sk), Role: a.Role, Scope: a.Scope})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// ListDesignerRoles pages through the designer role assignments of an org,
// or of one project's scope when project is not "".
func (d *Admin) ListDesignerRoles(ctx context.Context, org, project, cursor string, limit int) (Page[DesignerAssignment], error) {
	after, limit, err := pageArgs(cursor, limit)
	if err != nil {
		return Page[DesignerAssignment]{}, err
	}
	if project != "" {
		if _, err := d.GetProject(ctx, org, project); err != nil {
			return Page[DesignerAssignment]{}, err
		}
	}
	h, err := d.st.ReadHash(ctx, org, d.st.Keys(org).DRoles())
	if err != nil {
		return Page[DesignerAssignment]{}, err
	}
	all, err := assignments(h)
	if err != nil {
		return Page[DesignerAssignment]{}, err
	}
	page := Page[DesignerAssignment]{Items: []DesignerAssignment{}}
	for _, da := range all {
		if da.ID <= after || (project != "" && da.Scope.Project != project) {
			continue
		}
		if len(page.Items) == limit {
			page.NextCursor = strconv.FormatInt(page.Items[limit-1].ID, 10)
			break
		}
		page.Items = append(page.Items, da)
	}
	return page, nil
}

// GetDesignerRole reads one assignment; with project != "" it must be
// scoped to that project, else it must not be project-scoped (each is
// reached, and authorized, through its own route).
func (d *Admin) GetDesignerRole(ctx context.Context, org, project string, id int64) (DesignerAssignment, error) {
	h, err := d.st.ReadHash(ctx, org, d.st.Keys(org).DRoles())
	if err != nil {
		return DesignerAssignment{}, err
	}
	all, err := assignments(h)
	if err != nil {
		return DesignerAssignment{}, err
	}
	return findAssignment(all, project, id)
}

func findAssignment(all []DesignerAssignment, project string, id int64) (DesignerAssignment, error) {
	for _, da := range all {
		if da.ID == id && da.Scope.Project == project {
			return da, nil
		}
	}
	return DesignerAssignment{}, verr.New(verr.NotFound, "designer_role", "no designer role assignment %d here", id)
}

// AssignDesignerRole assigns a designer role to a user or designer group on
// a scope, with orgdoc's rules.
func (d *Admin) AssignDesignerRole(ctx context.Context, org string, dr orgdoc.DesignerRole, a store.Actor) (DesignerAssignment, int64, error) {
	var da DesignerAssignment
	rev, err := d.write(ctx, org, a, func(t *txn) (*store.Outcome, error) {
		if err := t.checkDesignerRole(dr); err != nil {
			return nil, err
		}
		h, err := t.HGetAll(t.k.DRoles())
		if err != nil {
			return nil, err
		}
		all, err := assignments(h)
		if err != nil {
			return nil, err
		}
		for _, x := range all {
			if x.Subject == dr.Subject && x.Role == dr.Role && x.Scope == dr.Scope {
				return nil, verr.New(verr.Conflict, "role", "this assignment exists (id %d)", x.ID)
			}
			if dr.Role == orgdoc.DesignerProjectOwner && x.Role == dr.Role && x.Scope.Project == dr.Scope.Project {
				return nil, verr.New(verr.Conflict, "role", "project %q already has a project_owner (assignment %d): transfer ownership with POST .../projects/%s/owner",
					dr.Scope.Project, x.ID, dr.Scope.Project)
			}
		}
		seq, err := t.Next()
		if err != nil {
			return nil, err
		}
		sk := store.SubjectKey(dr.Subject)
		t.appendAssignment(h, sk, store.SeqAssignment{Seq: seq, Role: dr.Role, Scope: dr.Scope})
		da = DesignerAssignment{ID: seq, Subject: dr.Subject, Role: dr.Role, Scope: dr.Scope}
		t.justifyNew(da, a)
		return &store.Outcome{Action: "designer_role.assigned", Target: "designer_role/" + itoa(seq), After: da, Change: designerChange(dr.Subject, dr.Scope)}, nil
	})
	return da, rev, err
}

func (t *txn) appendAssignment(h map[string]string, sk string, sa store.SeqAssignment) {
	var as []store.SeqAssignment
	if raw, ok := h[sk]; ok {
		_ = store.Decode(raw, &as)
	}
	as = append(as, sa)
	h[sk] = store.MustJSON(as)
	t.HSet(t.k.DRoles(), sk, h[sk])
}

func designerChange(s orgdoc.Subject, sc orgdoc.Scope) store.Change {
	ch := store.Change{}
	if sc.Project != "" {
		ch.Projects = []string{sc.Project}
	}
	if s.User != "" {
		ch.Users = []string{s.User}
	} else {
		// Members of a designer group (or of a workspace's all_users_
		// group) are not listed here: name them all.
		ch.All = sc.Project == ""
	}
	return ch
}

// checkDesignerRole applies orgdoc's designer role rules.
func (t *txn) checkDesignerRole(dr orgdoc.DesignerRole) error {
	s := dr.Subject
	switch {
	case (s.User == "") == (s.Group == ""):
		return verr.New(verr.Invalid, "subject", "subject must name exactly one of user, group")
	case s.User != "":
		if ok, err := t.HExists(t.k.Users(), s.User); err != nil || !ok {
			return firstErr(err, verr.New(verr.Invalid, "subject.user", "unknown user %q", s.User))
		}
	case strings.HasPrefix(s.Group, orgdoc.SystemGroupPrefix):
		ws := strings.TrimPrefix(s.Group, orgdoc.SystemGroupPrefix)
		if !t.hasWorkspace(ws) {
			return verr.New(verr.Invalid, "subject.group", "system group %q names unknown workspace %q", s.Group, ws)
		}
	default:
		if ok, err := t.HExists(t.k.DGroups(), s.Group); err != nil || !ok {
			return firstErr(err, verr.New(verr.Invalid, "subject.group", "unknown designer group %q", s.Group))
		}
	}
	want, ok := orgdoc.DesignerRoleScope(dr.Role)
	if !ok {
		allowed := []string{orgdoc.DesignerOrgOwner, orgdoc.DesignerOrgAdmin, orgdoc.DesignerWorkspaceAdmin, orgdoc.DesignerWorkspaceUser,
			orgdoc.DesignerThemeEditor, orgdoc.DesignerWorkspaceRuntimeEditor, orgdoc.DesignerProjectOwner, orgdoc.DesignerProjectEditor, orgdoc.DesignerProjectViewer}
		e := verr.New(verr.Invalid, "role", "designer role %q must be one of %s", dr.Role, strings.Join(allowed, ", "))
		e.Allowed = allowed
		return e
	}
	switch kind := dr.Scope.Kind(); {
	case kind == "":
		return verr.New(verr.Invalid, "scope", "scope must name exactly one of org, workspace, project")
	case kind != want:
		return verr.New(verr.Invalid, "scope", "%s needs a %s scope", dr.Role, want)
	case kind == orgdoc.ScopeWorkspace && !t.hasWorkspace(dr.Scope.Workspace):
		return verr.New(verr.Invalid, "scope.workspace", "unknown workspace %q", dr.Scope.Workspace)
	case kind == orgdoc.ScopeProject:
		if _, err := t.project(dr.Scope.Project); err != nil {
			return err
		}
	}
	return nil
}

func (t *txn) hasWorkspace(ws string) bool {
	return slices.ContainsFunc(t.Settings().Workspaces, func(w orgdoc.Workspace) bool { return w.ID == ws })
}

// UnassignDesignerRole removes one assignment (see GetDesignerRole for
// project).
func (d *Admin) UnassignDesignerRole(ctx context.Context, org, project string, id int64, ifMatch string, a store.Actor) (int64, error) {
	return d.write(ctx, org, a, func(t *txn) (*store.Outcome, error) {
		h, err := t.HGetAll(t.k.DRoles())
		if err != nil {
			return nil, err
		}
		all, err := assignments(h)
		if err != nil {
			return nil, err
		}
		da, err := findAssignment(all, project, id)
		if err != nil {
			return nil, err
		}
		if err := checkIfMatch(ifMatch, da, true); err != nil {
			return nil, err
		}
		if _, err := t.dropDesignerRoles(func(_ string, sa store.SeqAssignment) bool { return sa.Seq == id }); err != nil {
			return nil, err
		}
		return &store.Outcome{Action: "designer_role.unassigned", Target: "designer_role/" + itoa(id), Before: da, Change: designerChange(da.Subject, da.Scope)}, nil
	})
}

// TransferProjectOwner makes user the one project_owner of project,
// removing the current owner's assignment in the same transaction.
func (d *Admin) TransferProjectOwner(ctx context.Context, org, project, user string, a store.Actor) (DesignerAssignment, int64, error) {
	var da DesignerAssignment
	rev, err := d.write(ctx, org, a, func(t *txn) (*store.Outcome, error) {
		dr := orgdoc.DesignerRole{Subject: orgdoc.Subject{User: user}, Role: orgdoc.DesignerProjectOwner, Scope: orgdoc.Scope{Project: project}}
		if _, err := t.project(project); err != nil {
			return nil, err
		}
		if err := t.checkDesignerRole(dr); err != nil {
			return nil, rebase(err, "subject")
		}
		var previous []DesignerAssignment
		h, err := t.HGetAll(t.k.DRoles())
		if err != nil {
			return nil, err
		}
		all, err := assignments(h)
		if err != nil {
			return nil, err
		}
		ch := store.Change{Projects: []string{project}, Users: []string{user}}
		for _, x := range all {
			if x.Role == orgdoc.DesignerProjectOwner && x.Scope.Project == project {
				previous = append(previous, x)
				if x.Subject.User != "" {
					ch.Users = addUnique(ch.Users, x.Subject.User)
				}
			}
		}
		if _, err := t.dropDesignerRoles(func(_ string, sa store.SeqAssignment) bool {
			return sa.Role == orgdoc.DesignerProjectOwner && sa.Scope.Project == project
		}); err != nil {
			return nil, err
		}
		seq, err := t.Next()
		if err != nil {
			return nil, err
		}
		t.appendAssignment(t.pendingDroles, "u:"+user, store.SeqAssignment{Seq: seq, Role: dr.Role, Scope: dr.Scope})
		da = DesignerAssignment{ID: seq, Subject: dr.Subject, Role: dr.Role, Scope: dr.Scope}
		t.justifyNew(da, a)
		return &store.Outcome{Action: "project.owner_transferred", Target: "project/" + project + "/owner", Before: previous, After: da, Change: ch}, nil
	})
	return da, rev, err
}

// dropDesignerRoles removes every assignment for which drop holds (given
// the subject key and the assignment) and returns how many went. The
// resulting hash is kept in t.pendingDroles for later appends in the txn.
func (t *txn) dropDesignerRoles(drop func(sk string, sa store.SeqAssignment) bool) (int, error) {
	h, err := t.HGetAll(t.k.DRoles())
	if err != nil {
		return 0, err
	}
	n := 0
	for sk, raw := range h {
		var as []store.SeqAssignment
		if err := store.Decode(raw, &as); err != nil {
			return 0, err
		}
		kept := as[:0:0]
		for _, sa := range as {
			if !drop(sk, sa) {
				kept = append(kept, sa)
			} else {
				t.forgetJustification(store.ParseSubjectKey(sk), sa.Role, sa.Scope)
			}
		}
		if len(kept) == len(as) {
			continue
		}
		n += len(as) - len(kept)
		if len(kept) == 0 {
			t.HDel(t.k.DRoles(), sk)
			delete(h, sk)
		} else {
			h[sk] = store.MustJSON(kept)
			t.HSet(t.k.DRoles(), sk, h[sk])
		}
	}
	t.pendingDroles = h
	return n, nil
}

// justifyNew records the justification given with a new assignment (the
// write's own), or clears one an earlier assignment of the same subject,
// role and scope left (an import does not clear them).
func (t *txn) justifyNew(da DesignerAssignment, a store.Actor) {
	if strings.TrimSpace(a.Justification) != "" {
		t.recordJustification(da, a)
		return
	}
	t.forgetJustification(da.Subject, da.Role, da.Scope)
}

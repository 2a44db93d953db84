package domain

import (
	"context"
	"slices"
	"strings"

	"github.com/verdict-pdp/verdict/internal/orgdoc"
	"github.com/verdict-pdp/verdict/internal/store"
	"github.com/verdict-pdp/verdict/internal/verr"
)

// Shares of a project in one environment (the Share modal): subject (user
// or group) -> roles. A share may only give roles that the environment's
// active build lists (DESIGN.md §2 rule 2: a role outside the served
// catalog would grant nothing, so the API refuses it rather than let an
// admin believe it works).

// ShareSubject names the subject of a share: exactly one of User, Group.
type ShareSubject = orgdoc.Subject

func shareField(s ShareSubject) string {
	if s.Group != "" {
		return store.PrefixGroupShare + s.Group
	}
	return store.PrefixUserShare + s.User
}

func isShareField(f string) bool {
	return strings.HasPrefix(f, store.PrefixUserShare) || strings.HasPrefix(f, store.PrefixGroupShare)
}

// ListShares pages through the shares of (project, env).
func (d *Admin) ListShares(ctx context.Context, org, project, env, cursor string, limit int) (Page[orgdoc.Share], error) {
	if _, _, err := pageArgs(cursor, limit); err != nil {
		return Page[orgdoc.Share]{}, err
	}
	h, err := d.readEnv(ctx, org, project, env)
	if err != nil {
		return Page[orgdoc.Share]{}, err
	}
	return pageOf(h, isShareField, cursor, limit, decodeAs[orgdoc.Share])
}

// GetShare reads the share of one subject on (project, env).
func (d *Admin) GetShare(ctx context.Context, org, project, env string, subj ShareSubject) (orgdoc.Share, error) {
	var sh orgdoc.Share
	h, err := d.readEnv(ctx, org, project, env)
	if err != nil {
		return sh, err
	}
	raw, ok := h[shareField(subj)]
	if !ok {
		return sh, verr.New(verr.NotFound, "share", "no share for %s", subjectName(subj))
	}
	return sh, store.Decode(raw, &sh)
}

func subjectName(s ShareSubject) string {
	if s.Group != "" {
		return "group " + s.Group
	}
	return "user " + s.User
}

// readEnv reads an environment hash of a project; an environment the org
// knows but the project has no settings in reads as empty.
func (d *Admin) readEnv(ctx context.Context, org, project, env string) (map[string]string, error) {
	rec, err := d.GetProject(ctx, org, project)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(rec.Environments, env) {
		st, err := d.st.Settings(ctx, org)
		if err != nil {
			return nil, err
		}
		if len(st.Environments) > 0 && !slices.Contains(st.Environments, env) {
			return nil, verr.New(verr.NotFound, "environment", "no environment %q in org %s", env, org)
		}
		return map[string]string{}, nil
	}
	return d.st.EnvHash(ctx, org, project, env)
}

// PutShare creates or replaces the share of sh.Subject on (project, env).
// It reports whether the share is new.
func (d *Admin) PutShare(ctx context.Context, org, project, env string, sh orgdoc.Share, ifMatch string, a store.Actor) (orgdoc.Share, int64, bool, error) {
	created := false
	rev, err := d.write(ctx, org, a, func(t *txn) (*store.Outcome, error) {
		pe, err := t.project(project)
		if err != nil {
			return nil, err
		}
		if err := t.checkEnvName(env); err != nil {
			return nil, err
		}
		if err := t.checkShareSubject(sh.Subject); err != nil {
			return nil, err
		}
		roles, err := t.HKeys(t.k.Roles())
		if err != nil {
			return nil, err
		}
		if err := checkRoles(sh.Roles, func(r string) bool { return slices.Contains(roles, r) }); err != nil {
			return nil, err
		}
		key := t.k.Env(project, env)
		h := map[string]string{}
		if slices.Contains(pe.rec.Environments, env) {
			if h, err = t.HGetAll(key); err != nil {
				return nil, err
			}
		}
		b, err := t.activeBuild(project, h)
		if err != nil {
			return nil, err
		}
		if err := rolesInCatalog(sh.Roles, b); err != nil {
			return nil, err
		}
		f := shareField(sh.Subject)
		raw, exists := h[f]
		var before *orgdoc.Share
		seq := store.SeqOf(raw)
		if exists {
			before = &orgdoc.Share{}
			if err := store.Decode(raw, before); err != nil {
				return nil, err
			}
			if err := checkIfMatch(ifMatch, *before, true); err != nil {
				return nil, err
			}
		} else {
			if err := checkIfMatch(ifMatch, nil, false); err != nil {
				return nil, err
			}
			if seq, err = t.Next(); err != nil {
				return nil, err
			}
			created = true
		}
		if key, err = t.envForWrite(pe, env); err != nil {
			return nil, err
		}
		t.HSet(key, f, store.WithSeq(sh, seq))
		return &store.Outcome{Action: "share.put", Target: shareTarget(project, env, sh.Subject), Before: before, After: sh,
			Change: subjectChange(project, sh.Subject)}, nil
	})
	return sh, rev, created, err
}

// DeleteShare deletes the share of one subject on (project, env).
func (d *Admin) DeleteShare(ctx context.Context, org, project, env string, subj ShareSubject, ifMatch string, a store.Actor) (int64, error) {
	return d.write(ctx, org, a, func(t *txn) (*store.Outcome, error) {
		pe, err := t.project(project)
		if err != nil {
			return nil, err
		}
		key, h, err := t.envHash(pe, env)
		if err != nil {
			return nil, err
		}
		raw, ok := h[shareField(subj)]
		if !ok {
			return nil, verr.New(verr.NotFound, "share", "no share for %s", subjectName(subj))
		}
		var sh orgdoc.Share
		if err := store.Decode(raw, &sh); err != nil {
			return nil, err
		}
		if err := checkIfMatch(ifMatch, sh, true); err != nil {
			return nil, err
		}
		t.HDel(key, shareField(subj))
		return &store.Outcome{Action: "share.deleted", Target: shareTarget(project, env, subj), Before: sh,
			Change: subjectChange(project, subj)}, nil
	})
}

func shareTarget(project, env string, s ShareSubject) string {
	if s.Group != "" {
		return "project/" + project + "/environments/" + env + "/shares/groups/" + s.Group
	}
	return "project/" + project + "/environments/" + env + "/shares/users/" + s.User
}

func subjectChange(project string, s ShareSubject) store.Change {
	ch := store.Change{Projects: []string{project}}
	if s.Group != "" {
		ch.Groups = []string{s.Group}
	} else {
		ch.Users = []string{s.User}
	}
	return ch
}

// checkShareSubject: exactly one of a known user or a known group.
func (t *txn) checkShareSubject(s ShareSubject) error {
	switch {
	case (s.User == "") == (s.Group == ""):
		return verr.New(verr.Invalid, "subject", "subject must name exactly one of user, group")
	case s.User != "":
		if ok, err := t.HExists(t.k.Users(), s.User); err != nil || !ok {
			return firstErr(err, verr.New(verr.Invalid, "subject.user", "unknown user %q", s.User))
		}
	default:
		if ok, err := t.HExists(t.k.Groups(), s.Group); err != nil || !ok {
			return firstErr(err, verr.New(verr.Invalid, "subject.group", "unknown group %q", s.Group))
		}
	}
	return nil
}

// rolesInCatalog refuses roles the active build b does not list, naming the
// catalog in Allowed. No active build (no default policy, or an empty
// branch) means an empty catalog: nothing can be shared yet.
func rolesInCatalog(roles []string, b *orgdoc.Build) error {
	catalog := []string{}
	if b != nil {
		catalog = append(catalog, b.Roles...)
	}
	var missing []string
	for _, r := range roles {
		if !slices.Contains(catalog, r) {
			missing = append(missing, r)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	var e *verr.Error
	if b == nil {
		e = verr.New(verr.Invalid, "roles", "the environment serves no build (set its active policy first): cannot share %s", strings.Join(missing, ", "))
	} else {
		e = verr.New(verr.Invalid, "roles", "active build %s does not list %s", b.ID, strings.Join(missing, ", "))
	}
	e.Allowed = catalog
	return e
}

// activeBuild returns the build the environment's default policy serves
// (nil when none): the named build, or for latest_on_branch the build on
// that branch with the latest `created` (ties: the greatest id), as the
// policies choose it.
func (t *txn) activeBuild(project string, env map[string]string) (*orgdoc.Build, error) {
	raw, ok := env[store.FieldActivePolicy]
	if !ok {
		return nil, nil
	}
	var ap struct{ Default orgdoc.Policy }
	if err := store.Decode(raw, &ap); err != nil {
		return nil, err
	}
	if id := ap.Default.Build; id != "" {
		raw, ok, err := t.HGet(t.k.Builds(project), id)
		if err != nil || !ok {
			return nil, err
		}
		var b orgdoc.Build
		return &b, store.Decode(raw, &b)
	}
	h, err := t.HGetAll(t.k.Builds(project))
	if err != nil {
		return nil, err
	}
	var best *orgdoc.Build
	var bestKey string
	for _, raw := range h {
		var b orgdoc.Build
		if err := store.Decode(raw, &b); err != nil {
			return nil, err
		}
		if b.Branch != ap.Default.LatestOnBranch {
			continue
		}
		// As the policies compare builds: by created_key, then id. A
		// build without a key (refused on import) is never the latest.
		ck, err := orgdoc.CreatedKey(b.Created)
		if err != nil {
			continue
		}
		if best == nil || ck > bestKey || (ck == bestKey && b.ID > best.ID) {
			best, bestKey = &b, ck
		}
	}
	return best, nil
}

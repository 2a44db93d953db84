package orgdoc

import "time"

// FindBuild returns the project's build with id, or nil.
func (p *Project) FindBuild(id string) *Build {
	for i := range p.Builds {
		if p.Builds[i].ID == id {
			return &p.Builds[i]
		}
	}
	return nil
}

// LatestOnBranch returns the build on branch with the latest `created`
// time (ties: the greatest build id), as rule 3 chooses it; nil when the
// branch has no build.
func (p *Project) LatestOnBranch(branch string) *Build {
	var best *Build
	var bestT time.Time
	for i := range p.Builds {
		b := &p.Builds[i]
		if b.Branch != branch {
			continue
		}
		t, _ := time.Parse(time.RFC3339, b.Created)
		if best == nil || t.After(bestT) || (t.Equal(bestT) && b.ID > best.ID) {
			best, bestT = b, t
		}
	}
	return best
}

// PolicyBuild returns the build a policy names (nil when none: an unknown
// build or an empty branch).
func (p *Project) PolicyBuild(pol Policy) *Build {
	if pol.Build != "" {
		return p.FindBuild(pol.Build)
	}
	return p.LatestOnBranch(pol.LatestOnBranch)
}

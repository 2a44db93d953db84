package store

import (
	"context"
	"strings"
	"sync"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/verdict-pdp/verdict/internal/assemble"
	"github.com/verdict-pdp/verdict/internal/orgdoc"
)

// Source answers decision Scopes from Redis: one script call per decision
// reads the subject's facts; build manifests, immutable, are read once per
// project and kept. The facts are cut by the same code as for in-memory
// documents (assemble.Index.Subject), so both decide alike.
//
// A Source is safe for concurrent use.
type Source struct {
	st *Store

	mu     sync.RWMutex
	builds map[string]cachedBuilds // org + "\x00" + project
}

type cachedBuilds struct {
	ids   string // sorted ids joined by \x00: the cache is good while they match
	value ast.Value
}

// NewSource returns a Redis-backed Source.
func NewSource(st *Store) *Source {
	return &Source{st: st, builds: map[string]cachedBuilds{}}
}

// Facts implements assemble.Source.
func (src *Source) Facts(ctx context.Context, s assemble.Scope) (ast.Value, error) {
	sf, err := src.st.ReadSubject(ctx, s.Org, s.Subject, s.Project, s.Environment, s.Filter)
	if err != nil {
		return nil, err
	}
	if !sf.Exists {
		return ast.NewObject(), nil
	}
	ix := assemble.NewIndex(&sf.Org)
	if len(sf.Org.Projects) == 1 {
		v, err := src.projectBuilds(ctx, s.Org, s.Project, sf.BuildIDs)
		if err != nil {
			return nil, err
		}
		ix.Projects[s.Project].BuildsAST = v
	}
	return ast.NewObject(ast.Item(ast.StringTerm(s.Org), ast.NewTerm(ix.Subject(s)))), nil
}

// projectBuilds returns the project's builds as AST, from the cache while the
// set of build ids is unchanged (builds are immutable; new ones are added).
func (src *Source) projectBuilds(ctx context.Context, org, project string, ids []string) (ast.Value, error) {
	key := org + "\x00" + project
	want := strings.Join(ids, "\x00")
	src.mu.RLock()
	c, ok := src.builds[key]
	src.mu.RUnlock()
	if ok && c.ids == want {
		return c.value, nil
	}
	bs, err := src.st.Builds(ctx, org, project)
	if err != nil {
		return nil, err
	}
	ix := assemble.NewProjectIndex(&orgdoc.Project{ID: project, Builds: bs})
	src.mu.Lock()
	src.builds[key] = cachedBuilds{ids: want, value: ix.BuildsAST}
	src.mu.Unlock()
	return ix.BuildsAST, nil
}

// Forget drops what the source keeps of an org (after the org is replaced
// or deleted: a build id may then stand for another manifest).
func (src *Source) Forget(org string) {
	src.mu.Lock()
	defer src.mu.Unlock()
	for k := range src.builds {
		if strings.HasPrefix(k, org+"\x00") {
			delete(src.builds, k)
		}
	}
}

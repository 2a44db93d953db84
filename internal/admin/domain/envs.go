package domain

import (
	"slices"
	"strings"

	"github.com/verdict-pdp/verdict/internal/store"
	"github.com/verdict-pdp/verdict/internal/verr"
)

// Project and environment access inside an admin write, and the scans over
// every environment that cascading deletes (user, role, group) need.

// project reads a project record (NotFound at "project" when absent). The
// entry is shared by later calls of the same txn; mark it dirty to write it.
func (t *txn) project(id string) (*projectEntry, error) {
	if pe, ok := t.projects[id]; ok {
		if pe == nil {
			return nil, verr.New(verr.NotFound, "project", "no project %q", id)
		}
		return pe, nil
	}
	raw, ok, err := t.HGet(t.k.Projects(), id)
	if err != nil {
		return nil, err
	}
	if !ok {
		t.projects[id] = nil
		return nil, verr.New(verr.NotFound, "project", "no project %q", id)
	}
	pe := &projectEntry{seq: store.SeqOf(raw)}
	if err := store.Decode(raw, &pe.rec); err != nil {
		return nil, err
	}
	t.projects[id] = pe
	return pe, nil
}

// allProjects reads every project record, in position order.
func (t *txn) allProjects() ([]*projectEntry, error) {
	h, err := t.HGetAll(t.k.Projects())
	if err != nil {
		return nil, err
	}
	for _, p := range byPosition(h, nil) {
		if _, ok := t.projects[p.field]; ok {
			continue
		}
		pe := &projectEntry{seq: p.seq}
		if err := store.Decode(p.raw, &pe.rec); err != nil {
			return nil, err
		}
		t.projects[p.field] = pe
	}
	return t.sortedProjects(), nil
}

// checkEnvName checks an environment name given in a path: one the org
// lists (when it lists any, as orgdoc does), never blank, and never with a
// ':' that would make env:<project>:<env> keys ambiguous.
func (t *txn) checkEnvName(env string) error {
	if len(t.Settings().Environments) > 0 {
		if !slices.Contains(t.Settings().Environments, env) {
			return verr.New(verr.NotFound, "environment", "no environment %q in org %s", env, t.Org())
		}
		return nil
	}
	if strings.TrimSpace(env) == "" || strings.Contains(env, ":") {
		return verr.New(verr.InvalidInput, "environment", "environment name %q is not allowed", env)
	}
	return nil
}

// envForWrite returns the key of a project's environment, creating it (the
// `env` marker and the project's list of environments) when it is new.
func (t *txn) envForWrite(pe *projectEntry, env string) (string, error) {
	if err := t.checkEnvName(env); err != nil {
		return "", err
	}
	key := t.k.Env(pe.rec.ID, env)
	if !slices.Contains(pe.rec.Environments, env) {
		pe.rec.Environments = append(pe.rec.Environments, env)
		pe.dirty = true
		t.HSet(key, "env", "1")
	}
	return key, nil
}

// envHash reads an existing environment of a project (NotFound at
// "environment" when the project has no settings there).
func (t *txn) envHash(pe *projectEntry, env string) (string, map[string]string, error) {
	if !slices.Contains(pe.rec.Environments, env) {
		return "", nil, verr.New(verr.NotFound, "environment", "project %s has no environment %q", pe.rec.ID, env)
	}
	key := t.k.Env(pe.rec.ID, env)
	h, err := t.HGetAll(key)
	return key, h, err
}

// envEntry is one environment hash read by a scan.
type envEntry struct {
	project, env, key string
	h                 map[string]string
}

// allEnvs reads every environment hash of every project, pipelined.
func (t *txn) allEnvs() ([]envEntry, error) {
	pes, err := t.allProjects()
	if err != nil {
		return nil, err
	}
	var out []envEntry
	var replies []store.HashReply
	b := t.Batch()
	for _, pe := range pes {
		for _, env := range pe.rec.Environments {
			key := t.k.Env(pe.rec.ID, env)
			out = append(out, envEntry{project: pe.rec.ID, env: env, key: key})
			replies = append(replies, b.HGetAll(key))
		}
	}
	if err := b.Run(); err != nil {
		return nil, err
	}
	for i := range out {
		out[i].h = replies[i].Val()
	}
	return out, nil
}

// addUnique appends s to list unless it is there.
func addUnique(list []string, s string) []string {
	if slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}

// without returns list without s.
func without(list []string, s string) []string {
	out := list[:0:0]
	for _, x := range list {
		if x != s {
			out = append(out, x)
		}
	}
	return out
}

package bundle

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"sort"

	opabundle "github.com/open-policy-agent/opa/v1/bundle"
	"github.com/open-policy-agent/opa/v1/util"
	"github.com/verdict-pdp/verdict/internal/assemble"
	"github.com/verdict-pdp/verdict/internal/orgdoc"
	"github.com/verdict-pdp/verdict/internal/verr"
)

// AllEnvironments names a bundle that carries every environment.
const AllEnvironments = "all"

// Policies are the modules (built-in and extension, by file name) and the
// extension data documents a bundle carries: a policyload.Set's contents.
type Policies struct {
	Modules map[string]string
	Data    map[string]any
}

// Revision identifies a policy set: a hash of its modules and data.
func (p Policies) Revision() string {
	names := make([]string, 0, len(p.Modules))
	for n := range p.Modules {
		names = append(names, n)
	}
	sort.Strings(names)
	h := sha256.New()
	for _, n := range names {
		fmt.Fprintf(h, "%s\x00%s\x00", n, p.Modules[n])
	}
	b, _ := json.Marshal(p.Data) // map keys are sorted: stable
	h.Write(b)
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// Spec is what one bundle is built from.
type Spec struct {
	Org *orgdoc.Org
	// Env keeps only this environment of each project ("" or "all": every
	// one). Design-time facts (designer roles, workspaces) are always there.
	Env string
	// Revision is the manifest revision: the org's revision in Redis. Empty,
	// a hash of the bundle's content is used (documents from files).
	Revision string
	Policies Policies
	// Signer signs the bundle; nil leaves it unsigned (edges refuse it).
	Signer *Signer
	// Progress, when set, is told each step as it starts.
	Progress func(Step)
}

// Step is one step of a build, for progress reports.
type Step struct {
	N, Of  int
	Name   string
	Detail string
}

// Built is a bundle archive and what identifies it.
type Built struct {
	Org, Env       string
	Revision       string // manifest revision
	PolicyRevision string
	// ETag is a strong entity tag (quoted) of the content: org, environment,
	// revision, policies and signing key.
	ETag   string
	Signed bool
	Bytes  []byte
}

// Build renders, signs and writes one org's bundle (see the package doc for
// the layout). It reads nothing but spec.
func Build(ctx context.Context, spec Spec) (*Built, error) {
	o := spec.Org
	if o == nil || o.Org == "" {
		return nil, verr.New(verr.InvalidInput, "org", "required")
	}
	env := spec.Env
	if env == "" {
		env = AllEnvironments
	}
	if env != AllEnvironments && !hasEnvironment(o, env) {
		return nil, verr.New(verr.NotFound, "env", "org %q has no environment %q (it has %v)", o.Org, env, o.Environments)
	}
	steps := 4
	progress := func(n int, name, detail string) {
		if spec.Progress != nil {
			spec.Progress(Step{N: n, Of: steps, Name: name, Detail: detail})
		}
	}
	progress(1, "policies", fmt.Sprintf("scoping %d modules to org %s", len(spec.Policies.Modules), o.Org))
	mods, err := RewriteModules(o.Org, spec.Policies.Modules)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	progress(2, "data", fmt.Sprintf("%d users, %d groups, %d projects", len(o.Users), len(o.Groups), len(o.Projects)))
	data, dataJSON, err := bundleData(o, env, spec.Policies.Data)
	if err != nil {
		return nil, err
	}
	policyRev := spec.Policies.Revision()
	rev := spec.Revision
	if rev == "" {
		h := sha256.New()
		h.Write(dataJSON)
		h.Write([]byte(policyRev))
		rev = "sha256:" + hex.EncodeToString(h.Sum(nil))[:16]
	}
	roots := Roots(o.Org)
	regoV1 := 1
	b := opabundle.Bundle{
		Manifest: opabundle.Manifest{
			Revision:    rev,
			Roots:       &roots,
			RegoVersion: &regoV1,
			Metadata: map[string]any{"verdict": map[string]any{
				"org": o.Org, "environment": env, "policy_revision": policyRev,
			}},
		},
		Data: data,
	}
	for _, m := range mods {
		b.Modules = append(b.Modules, opabundle.ModuleFile{URL: "/" + m.Path, Path: "/" + m.Path, Raw: m.Raw, Parsed: m.Parsed})
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	keyID := "unsigned"
	if spec.Signer != nil {
		progress(3, "signing", spec.Signer.alg)
		sc := opabundle.NewSigningConfig(spec.Signer.pem, spec.Signer.alg, "")
		if err := b.GenerateSignature(sc, KeyID, false); err != nil {
			return nil, verr.Wrap(verr.Internal, "signing-key", err, "signing: %v", err)
		}
		keyID = spec.Signer.PublicKey().PEM
	} else {
		progress(3, "signing", "skipped: unsigned")
	}
	progress(4, "writing", fmt.Sprintf("%d bytes of data", len(dataJSON)))
	var buf bytes.Buffer
	if err := opabundle.NewWriter(&buf).Write(b); err != nil {
		return nil, verr.Wrap(verr.Internal, "", err, "writing bundle: %v", err)
	}
	tag := sha256.Sum256([]byte(o.Org + "\x00" + env + "\x00" + rev + "\x00" + policyRev + "\x00" + keyID))
	return &Built{
		Org: o.Org, Env: env, Revision: rev, PolicyRevision: policyRev,
		ETag: `"` + hex.EncodeToString(tag[:])[:32] + `"`, Signed: spec.Signer != nil, Bytes: buf.Bytes(),
	}, nil
}

// bundleData is the bundle's data document: the org in the indexed shape at
// verdict_data.orgs[org], and extension data under the org's extpkg. It is
// returned as generic JSON (and as bytes, for the content hash): OPA hashes
// the structured document to sign it, and must find the same value when it
// reads data.json back.
func bundleData(o *orgdoc.Org, env string, ext map[string]any) (map[string]any, []byte, error) {
	doc := assemble.NewIndex(o).Document()
	if env != AllEnvironments {
		doc["projects"] = onlyEnv(doc["projects"], env)
	}
	top := map[string]any{"verdict_data": map[string]any{"orgs": map[string]any{o.Org: doc}}}
	if len(ext) > 0 {
		top["verdict"] = map[string]any{"orgs": map[string]any{o.Org: map[string]any{extPkg: ext}}}
	}
	raw, err := json.Marshal(top)
	if err != nil {
		return nil, nil, verr.Wrap(verr.Internal, "", err, "encoding data: %v", err)
	}
	var out map[string]any
	if err := util.UnmarshalJSON(raw, &out); err != nil {
		return nil, nil, verr.Wrap(verr.Internal, "", err, "encoding data: %v", err)
	}
	return out, raw, nil
}

// hasEnvironment reports whether org o has environment env: one it lists,
// or, when it lists none, one a project has. A bundle is built (and kept by
// the server) only for those: the environments callers may name are bounded
// by the org's data (docs/limits.md).
func hasEnvironment(o *orgdoc.Org, env string) bool {
	if len(o.Environments) > 0 {
		return slices.Contains(o.Environments, env)
	}
	for _, p := range o.Projects {
		if _, ok := p.Environments[env]; ok {
			return true
		}
	}
	return false
}

// onlyEnv copies the projects value keeping only env in each project's
// environments.
func onlyEnv(projects any, env string) map[string]any {
	in, _ := projects.(map[string]any)
	out := make(map[string]any, len(in))
	for id, p := range in {
		pm, _ := p.(map[string]any)
		cp := make(map[string]any, len(pm))
		for k, v := range pm {
			cp[k] = v
		}
		envs := map[string]any{}
		if all, ok := pm["environments"].(map[string]any); ok {
			if e, ok := all[env]; ok {
				envs[env] = e
			}
		}
		cp["environments"] = envs
		out[id] = cp
	}
	return out
}

// BundleMeta is what Verdict writes in a bundle's manifest metadata.
type BundleMeta struct {
	Org            string `json:"org"`
	Environment    string `json:"environment"`
	PolicyRevision string `json:"policy_revision"`
}

// MetaOf reads Verdict's metadata from a manifest's metadata.
func MetaOf(metadata map[string]any) (BundleMeta, bool) {
	v, ok := metadata["verdict"]
	if !ok {
		return BundleMeta{}, false
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return BundleMeta{}, false
	}
	var m BundleMeta
	if json.Unmarshal(raw, &m) != nil || m.Org == "" {
		return BundleMeta{}, false
	}
	return m, true
}

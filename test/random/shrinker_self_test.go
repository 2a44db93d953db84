package random

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/verdict-pdp/verdict/internal/orgdoc"
	"github.com/verdict-pdp/verdict/internal/store"
	"github.com/verdict-pdp/verdict/internal/testutil/orggen"
	"github.com/verdict-pdp/verdict/internal/testutil/redistest"
)

// The shrinker's in-process checks hold on cases that pass (else every
// failure would shrink to nothing), and a failing property shrinks to what
// it needs: here "a disabled designer user is in a group with a share",
// which needs one user, one group and one share.
func TestShrinker(t *testing.T) {
	rdb := redistest.Shared(t)
	st, err := store.Open(store.Config{URL: rdb.URL()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	sh := newShrinker(t, &world{eng: newEngine(t), st: st})
	for seed := uint64(1); seed <= 2; seed++ {
		o := orggen.Org(seed)
		for i, req := range orggen.Requests(o, seed, 15) {
			for _, prop := range []string{"differential", "oracle", "explanation agrees with the answer"} {
				if msg := sh.check(prop, o, req); msg != "" {
					t.Fatalf("seed %d request %d: %s: %s", seed, i, prop, msg)
				}
			}
		}
	}

	sh.extra = map[string]func(*orgdoc.Org, orggen.Request) string{"toy": func(o *orgdoc.Org, _ orggen.Request) string {
		for _, u := range o.Users {
			if u.Status != orgdoc.StatusDisabled || !u.DesignerUser {
				continue
			}
			for _, g := range o.Groups {
				if !slices.Contains(g.Members, u.ID) {
					continue
				}
				for _, p := range o.Projects {
					for _, e := range p.Environments {
						if slices.ContainsFunc(e.Shares, func(s orgdoc.Share) bool { return s.Subject.Group == g.Name }) {
							return "found"
						}
					}
				}
			}
		}
		return ""
	}}
	for seed := uint64(1); seed < 200; seed++ {
		o := orggen.Org(seed)
		if sh.check("toy", o, nil) == "" {
			continue
		}
		out := sh.shrink("toy", rcase{seed: seed, org: o, req: orggen.Request{}})
		i := strings.Index(out, "minimal org: ")
		if i < 0 {
			t.Fatalf("no minimal org in %s", out)
		}
		var min orgdoc.Org
		if err := json.Unmarshal([]byte(strings.SplitN(out[i+len("minimal org: "):], "\n", 2)[0]), &min); err != nil {
			t.Fatal(err)
		}
		if len(min.Users) != 1 || len(min.Groups) != 1 || len(min.Projects) != 1 || len(min.Roles) != 1 ||
			len(min.DesignerRoles) != 0 || len(min.Groups[0].Members) != 1 {
			t.Errorf("seed %d not shrunk to one user, group, role and share: %s", seed, out)
		}
		return
	}
	t.Fatal("no seed has a disabled designer user in a shared group")
}

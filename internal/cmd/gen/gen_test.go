package gen

import (
	"bytes"
	"context"
	"testing"

	"github.com/verdict-pdp/verdict/internal/authzen"
	"github.com/verdict-pdp/verdict/internal/orgdoc"
	"github.com/verdict-pdp/verdict/internal/testutil/orggen"
)

func TestGeneratedOrgIsValidAndDeterministic(t *testing.T) {
	var a, b bytes.Buffer
	cfg := Config{Users: 1000, Seed: 7}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if err := Write(&a, cfg); err != nil {
		t.Fatal(err)
	}
	_ = Write(&b, cfg)
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("the same seed gave different documents")
	}
	o, err := orgdoc.DecodeOrg(a.Bytes())
	if err != nil {
		t.Fatalf("generated document does not validate: %v", err)
	}
	if len(o.Users) != 1000 || len(o.Groups) != 5 || len(o.Projects) != 20 {
		t.Errorf("got %d users, %d groups, %d projects", len(o.Users), len(o.Groups), len(o.Projects))
	}
	var c bytes.Buffer
	_ = Write(&c, Config{Users: 1000, Seed: 8, Org: "gen", Projects: 20})
	if bytes.Equal(a.Bytes(), c.Bytes()) {
		t.Error("another seed gave the same document")
	}
}

// The request mix is deterministic, every line is a valid request, and every
// kind of decision of the mix occurs.
func TestRequestMix(t *testing.T) {
	for _, mix := range []string{MixSessions, MixUniform, MixNoRepeat} {
		t.Run(mix, func(t *testing.T) { testMix(t, mix) })
	}
}

func testMix(t *testing.T, mix string) {
	cfg := Config{Users: 500, Seed: 3, Requests: 2000, Mix: mix}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	var a, b bytes.Buffer
	if err := WriteRequests(&a, cfg); err != nil {
		t.Fatal(err)
	}
	_ = WriteRequests(&b, cfg)
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("the same seed gave different requests")
	}
	kinds := map[string]int{}
	scopes := map[string]bool{}
	for i, line := range bytes.Split(bytes.TrimSpace(a.Bytes()), []byte("\n")) {
		r, err := authzen.ParseRequest(line)
		if err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		kinds[r.Resource.Type]++
		scopes[r.SubjectID()+" "+r.Project()+" "+r.Environment()] = true
	}
	// Sessions share a subject, project and environment; uniform requests
	// almost never do.
	if want := 2000 / sessionLength; mix == MixSessions && len(scopes) > want+openSessions {
		t.Errorf("sessions mix: %d distinct scopes, want at most %d", len(scopes), want+openSessions)
	}
	if mix == MixUniform && len(scopes) < 1900 {
		t.Errorf("uniform mix: only %d distinct scopes in 2000 requests", len(scopes))
	}
	for _, m := range mixes {
		if kinds[m.kind] == 0 {
			t.Errorf("no %s request in the mix: %v", m.kind, kinds)
		}
	}
}

// The no-repeat stream never repeats a request, even when a small org runs
// out of some kinds (they drop out), and says so when it runs out of all.
func TestNoRepeatNeverRepeats(t *testing.T) {
	n := 0
	for _, its := range items {
		n += len(its)
	}
	if n != 105 {
		t.Fatalf("a build has %d items, the cases below count 105", n)
	}
	for _, tc := range []struct {
		users, requests int
		wantErr         bool
	}{
		{users: 500, requests: 20000},
		{users: 3, requests: 3 * 2 * 3 * 105, wantErr: false}, // every distinct request (105 items), exactly
		{users: 3, requests: 3*2*3*105 + 1, wantErr: true},
	} {
		cfg := Config{Users: tc.users, Seed: 5, Projects: 2, Requests: tc.requests, Mix: MixNoRepeat}
		if err := cfg.Validate(); err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		err := WriteRequests(&b, cfg)
		if (err != nil) != tc.wantErr {
			t.Fatalf("%d users, %d requests: err %v, want error %v", tc.users, tc.requests, err, tc.wantErr)
		}
		if err != nil {
			continue
		}
		seen := map[string]int{}
		for i, line := range bytes.Split(bytes.TrimSpace(b.Bytes()), []byte("\n")) {
			if _, err := authzen.ParseRequest(line); err != nil {
				t.Fatalf("line %d: %v", i+1, err)
			}
			if j, ok := seen[string(line)]; ok {
				t.Fatalf("%d users: line %d repeats line %d: %s", tc.users, i+1, j+1, line)
			}
			seen[string(line)] = i
		}
		if len(seen) != tc.requests {
			t.Errorf("%d users: %d distinct requests, want %d", tc.users, len(seen), tc.requests)
		}
	}
}

// The scatter is one-to-one over its whole space.
func TestScatterIsOneToOne(t *testing.T) {
	for _, users := range []int{1, 2, 7, 12, 100} {
		s := newScatter(users, 4, 5)
		seen := map[[4]int]bool{}
		for i := range s.size() {
			u, p, e, it := s.at(i)
			k := [4]int{u, p, e, it}
			if seen[k] || u >= users || p >= 4 || e >= len(envs) || it >= 5 {
				t.Fatalf("%d users: index %d gives %v (seen before: %v)", users, i, k, seen[k])
			}
			seen[k] = true
		}
	}
}

// A screen is one user, project and environment asking about ScreenSize
// distinct items of the build; no two screens share a scope.
func TestScreens(t *testing.T) {
	cfg := Config{Users: 50, Seed: 1, Requests: 30 * ScreenSize, Mix: MixScreens}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := WriteRequests(&b, cfg); err != nil {
		t.Fatal(err)
	}
	lines := bytes.Split(bytes.TrimSpace(b.Bytes()), []byte("\n"))
	if len(lines) != 30*ScreenSize {
		t.Fatalf("%d lines", len(lines))
	}
	scopes := map[string]bool{}
	for k := 0; k < len(lines); k += ScreenSize {
		scope, items := "", map[string]bool{}
		types := map[string]int{}
		for _, line := range lines[k : k+ScreenSize] {
			r, err := authzen.ParseRequest(line)
			if err != nil {
				t.Fatal(err)
			}
			s := r.SubjectID() + " " + r.Project() + " " + r.Environment()
			if scope != "" && s != scope {
				t.Fatalf("screen %d mixes scopes %q and %q", k/ScreenSize, scope, s)
			}
			scope = s
			items[string(line)] = true
			types[r.Resource.Type]++
		}
		if len(items) != ScreenSize || types["ui_flow"] == 0 || types["component"] == 0 || types["swimlane"] == 0 {
			t.Errorf("screen %d: %d distinct items, types %v", k/ScreenSize, len(items), types)
		}
		if scopes[scope] {
			t.Errorf("screen %d repeats scope %s", k/ScreenSize, scope)
		}
		scopes[scope] = true
	}
	if err := (&Config{Users: 5, Requests: 150, Mix: MixScreens}).Validate(); err == nil {
		t.Error("a screens mix of 150 requests was accepted")
	}
}

// `verdict gen --random --seed S` writes orggen's org of S, valid, the same
// every time; with --requests, valid requests about it.
func TestRandom(t *testing.T) {
	run := func(args ...string) []byte {
		var out, errb bytes.Buffer
		if code := Run(context.Background(), args, &out, &errb); code != 0 {
			t.Fatalf("verdict gen %v: exit %d: %s", args, code, errb.String())
		}
		return out.Bytes()
	}
	a, b := run("--random", "--seed", "42"), run("--random", "--seed", "42")
	if !bytes.Equal(a, b) {
		t.Fatal("the same seed gave different documents")
	}
	o, err := orgdoc.DecodeOrg(a)
	if err != nil {
		t.Fatalf("generated document does not validate: %v", err)
	}
	if o.Org != orggen.OrgID(42) || len(o.Users) < 5 || len(o.Users) > 15 {
		t.Errorf("org %q with %d users", o.Org, len(o.Users))
	}
	if o, _ := orgdoc.DecodeOrg(run("--random", "--seed", "42", "--org", "mine")); o == nil || o.Org != "mine" {
		t.Errorf("--org mine: %+v", o)
	}
	lines := bytes.Split(bytes.TrimSpace(run("--random", "--seed", "42", "--requests", "30")), []byte("\n"))
	if len(lines) != 30 {
		t.Fatalf("%d request lines, want 30", len(lines))
	}
	for i, l := range lines {
		r, err := authzen.ParseRequest(l)
		if err != nil {
			t.Fatalf("line %d: %v", i, err)
		}
		if r.Org() != orggen.OrgID(42) && r.Org() != orggen.UnknownOrg {
			t.Errorf("line %d: org %q", i, r.Org())
		}
	}
}

package gen

import (
	"bytes"
	"testing"

	"github.com/verdict-pdp/verdict/internal/authzen"
	"github.com/verdict-pdp/verdict/internal/orgdoc"
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
	for _, mix := range []string{MixSessions, MixUniform} {
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

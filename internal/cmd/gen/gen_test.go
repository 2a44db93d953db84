package gen

import (
	"bytes"
	"testing"

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

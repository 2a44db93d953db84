package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/verdict-pdp/verdict/internal/store"
)

func TestLastSeenBatches(t *testing.T) {
	st := newStore(t)
	ctx := context.Background()
	c := loadCorpus(t, "../../data/demo.json")
	if _, err := st.PutOrg(ctx, &c.Orgs[0], -1, admin); err != nil {
		t.Fatal(err)
	}
	ls := store.NewLastSeen(st, time.Hour, nil)
	before := time.Now().UTC().Add(-time.Second)
	ls.Seen("demo", "u-tom")
	got, _ := st.LastSeenOf(ctx, "demo", "u-tom")
	if len(got) != 0 {
		t.Fatalf("written before the batch: %v", got)
	}
	ls.Close() // flushes
	got, err := st.LastSeenOf(ctx, "demo", "u-tom", "u-maria")
	if err != nil {
		t.Fatal(err)
	}
	seen, err := time.Parse(time.RFC3339, got["u-tom"])
	if err != nil || seen.Before(before) || got["u-maria"] != "" {
		t.Fatalf("last seen: %v %v", got, err)
	}
	o, _, _ := st.GetOrg(ctx, "demo")
	for _, u := range o.Users {
		if u.ID == "u-tom" && u.LastSeen != got["u-tom"] {
			t.Errorf("export shows last_seen %q, want %q", u.LastSeen, got["u-tom"])
		}
	}
}

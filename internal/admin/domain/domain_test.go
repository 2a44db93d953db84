package domain_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"sync"
	"testing"

	"github.com/verdict-pdp/verdict/internal/admin/domain"
	"github.com/verdict-pdp/verdict/internal/orgdoc"
	"github.com/verdict-pdp/verdict/internal/store"
	"github.com/verdict-pdp/verdict/internal/testutil/redistest"
)

// adminFixture is a store holding the demo org (real Redis, flushed) and
// the admin domain over it.
func adminFixture(t *testing.T) (*store.Store, *domain.Admin, *orgdoc.Org) {
	t.Helper()
	rdb := redistest.Shared(t).Client(t)
	if err := rdb.FlushAll(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
	st, err := store.New(rdb, store.Config{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile("../../../data/demo.json")
	if err != nil {
		t.Fatal(err)
	}
	c, err := orgdoc.DecodeCorpus(b)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.PutOrg(context.Background(), &c.Orgs[0], -1, store.Actor{Subject: "t"}); err != nil {
		t.Fatal(err)
	}
	return st, domain.New(st), &c.Orgs[0]
}

// Concurrent writes of one org serialize through WATCH on the revision:
// each retries until it lands, none is lost, and membership's two sides
// stay in step.
func TestAdminConcurrentWrites(t *testing.T) {
	st, d, o := adminFixture(t)
	ctx := context.Background()
	a := store.Actor{Subject: "t"}
	const n = 8
	for i := range n {
		id := fmt.Sprintf("u-%d", i)
		if _, _, err := d.CreateUser(ctx, o.Org, orgdoc.User{ID: id, Username: id}, a); err != nil {
			t.Fatal(err)
		}
	}
	rev, _ := st.Revision(ctx, o.Org)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := d.AddMembers(ctx, o.Org, "Pilot users", []string{fmt.Sprintf("u-%d", i)}, a)
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got, _ := st.Revision(ctx, o.Org); got != rev+n {
		t.Fatalf("revision %d, want %d", got, rev+n)
	}
	page, err := d.ListMembers(ctx, o.Org, "Pilot users", "", 0)
	if err != nil || len(page.Items) != n+1 {
		t.Fatalf("members %v %v", page.Items, err)
	}
	for i := range n {
		groups, err := st.Client().HGet(ctx, st.OrgPrefix(o.Org)+"user_groups", fmt.Sprintf("u-%d", i)).Result()
		if err != nil || groups != `["Pilot users"]` {
			t.Fatalf("u-%d groups %s %v", i, groups, err)
		}
	}
	// The seq counter moved with every position given: positions are unique.
	seen := map[int64]bool{}
	zs, _ := st.Client().ZRangeWithScores(ctx, "v:{demo}:members:Pilot users", 0, -1).Result()
	for _, z := range zs {
		if seen[int64(z.Score)] {
			t.Fatalf("position %v given twice", z.Score)
		}
		seen[int64(z.Score)] = true
	}
}

// The change feed names what a write touched, so caches drop only that.
func TestAdminChangeFeed(t *testing.T) {
	st, d, o := adminFixture(t)
	ctx := context.Background()
	a := store.Actor{Subject: "t"}
	before, err := st.ReadChanges(ctx, o.Org, "0", 0)
	if err != nil || len(before) == 0 {
		t.Fatalf("changes before %+v %v", before, err)
	}
	last := before[len(before)-1].ID
	if _, err := d.DeleteRole(ctx, o.Org, "Teller", "", a); err != nil {
		t.Fatal(err)
	}
	if _, err := d.RemoveMember(ctx, o.Org, "Tellers north", "u-tom", a); err != nil {
		t.Fatal(err)
	}
	changes, err := st.ReadChanges(ctx, o.Org, last, 0)
	if err != nil || len(changes) != 2 {
		t.Fatalf("changes %+v %v", changes, err)
	}
	role, member := changes[0], changes[1]
	if role.Kind != "role.deleted" || !slices.Equal(role.Projects, []string{"mortgage"}) || !slices.Equal(role.Groups, []string{"Tellers north"}) || role.All {
		t.Errorf("role deletion change %+v", role)
	}
	if member.Kind != "group.member_removed" || !slices.Equal(member.Users, []string{"u-tom"}) || !slices.Equal(member.Groups, []string{"Tellers north"}) {
		t.Errorf("membership change %+v", member)
	}
	page, err := st.Audit(ctx, o.Org, "", 10)
	if err != nil || len(page.Entries) != 3 || page.Entries[1].Revision != 2 || page.Entries[2].Revision != 3 {
		t.Fatalf("audit %+v %v", page.Entries, err)
	}
}

package store_test

import (
	"context"
	"encoding/json"
	"slices"
	"testing"

	"github.com/verdict-pdp/verdict/internal/store"
	"github.com/verdict-pdp/verdict/internal/verr"
)

// txFixture is a store holding the demo org, at revision 1.
func txFixture(t *testing.T) (*store.Store, string) {
	t.Helper()
	st := newStore(t)
	o := &loadCorpus(t, "../../data/demo.json").Orgs[0]
	if _, err := st.PutOrg(context.Background(), o, -1, admin); err != nil {
		t.Fatal(err)
	}
	return st, o.Org
}

// A write lands whole: its keys (joined to the org's key index), the
// position counter, the revision, the audit entry and the change-feed
// entry, all in one EXEC.
func TestWriteLandsWithAuditAndFeed(t *testing.T) {
	st, org := txFixture(t)
	ctx := context.Background()
	k := st.Keys(org)
	before, err := st.ReadChanges(ctx, org, "0", 0)
	if err != nil || len(before) == 0 {
		t.Fatalf("changes before %+v %v", before, err)
	}
	last := before[len(before)-1].ID
	var seq int64
	rev, err := st.Write(ctx, org, store.Actor{Subject: "tx-test", Justification: "why"}, func(t *store.Tx) (*store.Outcome, error) {
		var err error
		if seq, err = t.Next(); err != nil {
			return nil, err
		}
		t.HSet(k.Filters(), "f-new", store.WithSeq(map[string]string{"id": "f-new"}, seq))
		t.ZAdd(k.Members("New group"), "u-maria", seq)
		return &store.Outcome{Action: "thing.done", Target: "thing/1", Before: map[string]int{"n": 1}, After: "raw",
			Change: store.Change{Users: []string{"u-maria"}}}, nil
	})
	if err != nil || rev != 2 {
		t.Fatalf("rev %d, err %v", rev, err)
	}
	rdb := st.Client()
	if raw := rdb.HGet(ctx, k.Filters(), "f-new").Val(); store.SeqOf(raw) != seq || raw != `{"#":`+itoa(seq)+`,"id":"f-new"}` {
		t.Errorf("filter %q", raw)
	}
	if got := rdb.Get(ctx, k.Seq()).Val(); got != itoa(seq) {
		t.Errorf("seq %s, want %d", got, seq)
	}
	for _, key := range []string{k.Filters(), k.Members("New group")} {
		if !rdb.SIsMember(ctx, k.Index(), key).Val() {
			t.Errorf("%s not in the key index", key)
		}
	}
	page, err := st.Audit(ctx, org, "", 10)
	if err != nil || len(page.Entries) != 2 {
		t.Fatalf("audit %+v %v", page, err)
	}
	e := page.Entries[1]
	if e.Action != "thing.done" || e.Target != "thing/1" || e.Actor != "tx-test" || e.Justification != "why" || e.Revision != 2 ||
		string(e.Before) != `{"n":1}` || string(e.After) != "raw" {
		t.Errorf("audit entry %+v (before %s, after %s)", e, e.Before, e.After)
	}
	changes, err := st.ReadChanges(ctx, org, last, 0)
	if err != nil || len(changes) != 1 {
		t.Fatalf("changes %+v %v", changes, err)
	}
	if ch := changes[0]; ch.Org != org || ch.Kind != "thing.done" || ch.Revision != 2 || !slices.Equal(ch.Users, []string{"u-maria"}) {
		t.Errorf("change %+v", ch)
	}
}

// A refused write (fn returns an error after queueing writes) changes
// nothing and returns the error as is; an unknown org is NotFound.
func TestWriteRefusedChangesNothing(t *testing.T) {
	st, org := txFixture(t)
	ctx := context.Background()
	k := st.Keys(org)
	before, _, _ := st.GetOrg(ctx, org)
	seqBefore := st.Client().Get(ctx, k.Seq()).Val()
	refusal := verr.New(verr.Invalid, "name", "refused")
	_, err := st.Write(ctx, org, admin, func(t *store.Tx) (*store.Outcome, error) {
		if _, err := t.Next(); err != nil {
			return nil, err
		}
		t.HSet(k.Roles(), "Ghost", `{"name":"Ghost"}`)
		t.Del(k.Users())
		return nil, refusal
	})
	if err != refusal {
		t.Fatalf("got %v, want the refusal itself", err)
	}
	after, rev, _ := st.GetOrg(ctx, org)
	if rev != 1 || canonical(t, before) != canonical(t, after) || st.Client().Get(ctx, k.Seq()).Val() != seqBefore {
		t.Fatalf("a refused write changed the org (revision %d)", rev)
	}
	if page, _ := st.Audit(ctx, org, "", 10); len(page.Entries) != 1 {
		t.Fatalf("a refused write was audited: %+v", page.Entries)
	}
	_, err = st.Write(ctx, "no-such-org", admin, func(t *store.Tx) (*store.Outcome, error) {
		t.HSet(t.Keys().Roles(), "x", "{}")
		return &store.Outcome{Action: "x"}, nil
	})
	if e := verr.As(err); e.Code != verr.NotFound || e.Field != "org" {
		t.Fatalf("unknown org: got %v", err)
	}
	if n := st.Client().Exists(ctx, st.Keys("no-such-org").Roles(), st.Keys("no-such-org").Rev()).Val(); n != 0 {
		t.Fatalf("a write of an unknown org wrote %d keys", n)
	}
}

// A write whose reads are overtaken by another write of the org runs again
// against the new state: both writes land, in order, nothing is lost.
func TestWriteRetriesWhenOvertaken(t *testing.T) {
	st, org := txFixture(t)
	ctx := context.Background()
	k := st.Keys(org)
	runs := 0
	rev, err := st.Write(ctx, org, admin, func(t *store.Tx) (*store.Outcome, error) {
		runs++
		list, err := t.StringList(k.UserGroups(), "u-maria")
		if err != nil {
			return nil, err
		}
		if runs == 1 {
			// Another writer of the org lands between our reads and EXEC.
			if _, err := st.Write(ctx, org, admin, func(t2 *store.Tx) (*store.Outcome, error) {
				t2.SetStringList(k.UserGroups(), "u-maria", append(slices.Clone(list), "first"))
				return &store.Outcome{Action: "first"}, nil
			}); err != nil {
				return nil, err
			}
		}
		t.SetStringList(k.UserGroups(), "u-maria", append(list, "second"))
		return &store.Outcome{Action: "second"}, nil
	})
	if err != nil || runs != 2 || rev != 3 {
		t.Fatalf("rev %d after %d runs, err %v", rev, runs, err)
	}
	var got []string
	_ = json.Unmarshal([]byte(st.Client().HGet(ctx, k.UserGroups(), "u-maria").Val()), &got)
	if n := len(got); n < 2 || got[n-2] != "first" || got[n-1] != "second" {
		t.Fatalf("user_groups of u-maria %v: a write was lost", got)
	}
}

// Reads of a Tx: records with their positions, absent fields, batches, and
// Del dropping a key from the index.
func TestTxReads(t *testing.T) {
	st, org := txFixture(t)
	ctx := context.Background()
	k := st.Keys(org)
	_, err := st.Write(ctx, org, admin, func(t *store.Tx) (*store.Outcome, error) {
		var u struct{ Username string }
		seq, err := t.GetRecord(k.Users(), "u-maria", &u, "user", "user")
		if err != nil || seq <= 0 || u.Username == "" {
			return nil, verr.New(verr.Internal, "", "GetRecord: %d %+v %v", seq, u, err)
		}
		if _, err := t.GetRecord(k.Users(), "u-nobody", &u, "user", "user"); verr.CodeOf(err) != verr.NotFound || verr.As(err).Field != "user" {
			return nil, verr.New(verr.Internal, "", "GetRecord of an absent user: %v", err)
		}
		b := t.Batch()
		yes, no := b.HExists(k.Users(), "u-maria"), b.HExists(k.Users(), "u-nobody")
		name, none := b.HGet(k.Usernames(), u.Username), b.HGet(k.Usernames(), "nobody")
		users := b.HGetAll(k.Users())
		if err := b.Run(); err != nil {
			return nil, err
		}
		id, ok := name.Val()
		if _, found := none.Val(); !yes.Val() || no.Val() || !ok || id != "u-maria" || found || users.Val()["u-maria"] == "" {
			return nil, verr.New(verr.Internal, "", "batch replies wrong")
		}
		members, err := t.ZRangeWithSeq(k.Members("Tellers north"))
		if err != nil || len(members) == 0 || members[0].Seq <= 0 {
			return nil, verr.New(verr.Internal, "", "members %+v %v", members, err)
		}
		t.Del(k.Members("Tellers north"))
		return &store.Outcome{Action: "read"}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if st.Client().SIsMember(ctx, k.Index(), k.Members("Tellers north")).Val() {
		t.Fatal("a deleted key stayed in the key index")
	}
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

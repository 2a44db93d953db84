package store_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/verdict-pdp/verdict/internal/cmd/gen"
	"github.com/verdict-pdp/verdict/internal/orgdoc"
	"github.com/verdict-pdp/verdict/internal/store"
	"github.com/verdict-pdp/verdict/internal/verr"
)

// dump renders every key of the database with its full content, for
// comparison: hashes, sorted sets (with scores), sets, strings, and streams
// without their entry ids and times (which differ from run to run).
func dump(t *testing.T, rdb *redis.Client) map[string]string {
	t.Helper()
	ctx := context.Background()
	Keys, err := rdb.Keys(ctx, "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, k := range Keys {
		typ, err := rdb.Type(ctx, k).Result()
		if err != nil {
			t.Fatal(err)
		}
		var v any
		switch typ {
		case "hash":
			v, err = rdb.HGetAll(ctx, k).Result()
		case "zset":
			v, err = rdb.ZRangeWithScores(ctx, k, 0, -1).Result()
		case "set":
			var m []string
			m, err = rdb.SMembers(ctx, k).Result()
			sort.Strings(m)
			v = m
		case "string":
			v, err = rdb.Get(ctx, k).Result()
		case "stream":
			var xs []redis.XMessage
			xs, err = rdb.XRange(ctx, k, "-", "+").Result()
			var entries []map[string]any
			for _, x := range xs {
				delete(x.Values, "time")
				entries = append(entries, x.Values)
			}
			v = entries
		default:
			t.Fatalf("key %s of type %s", k, typ)
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(v) // maps marshal with sorted keys
		out[k] = typ + " " + string(b)
	}
	return out
}

func diffDumps(t *testing.T, what string, want, got map[string]string) {
	t.Helper()
	n := 0
	for k, w := range want {
		if g, ok := got[k]; !ok {
			t.Errorf("%s: key %s missing", what, k)
			n++
		} else if g != w {
			t.Errorf("%s: key %s differs:\nwant %.600s\n got %.600s", what, k, w, g)
			n++
		}
		if n > 5 {
			t.FailNow()
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("%s: extra key %s", what, k)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
}

// importFile streams data into st as `verdict import` does.
func importFile(st *store.Store, data []byte, ifRevision int64, progress func(done, total int64)) (store.ImportStats, error) {
	doc, err := orgdoc.OpenStream(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return store.ImportStats{}, err
	}
	return st.ImportOrg(context.Background(), doc, ifRevision, admin, progress)
}

// sameDocs are the documents both imports must agree on: a generated org
// (as gen writes it, and with every object's members sorted, so groups list
// their members before their names), the demo org and acme's orgs.
func sameDocs(t *testing.T) map[string][]byte {
	t.Helper()
	docs := map[string][]byte{}
	var b bytes.Buffer
	c := gen.Config{Users: 2000, Seed: 1}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if err := gen.Write(&b, c); err != nil {
		t.Fatal(err)
	}
	docs["gen 2000 users"] = b.Bytes()
	var generic map[string]any
	if err := json.Unmarshal(b.Bytes(), &generic); err != nil {
		t.Fatal(err)
	}
	sorted, _ := json.Marshal(generic)
	docs["gen 2000 users, members sorted"] = sorted
	for _, f := range corpusFiles(t) {
		corpus := loadCorpus(t, f)
		for i := range corpus.Orgs {
			b, _ := json.Marshal(corpus.Orgs[i])
			docs[fmt.Sprintf("%s orgs[%d]", f, i)] = b
		}
	}
	return docs
}

// TestImportOrgSameAsPutOrg imports each document with PutOrg and with
// ImportOrg into an empty Redis, twice (the second replaces the first and
// checks the builds), and compares every key's full content.
func TestImportOrgSameAsPutOrg(t *testing.T) {
	st := newStore(t)
	rdb := st.Client().(*redis.Client)
	ctx := context.Background()
	for name, data := range sameDocs(t) {
		t.Run(name, func(t *testing.T) {
			o, err := orgdoc.DecodeOrg(data)
			if err != nil {
				t.Fatal(err)
			}
			rdb.FlushAll(ctx)
			var want []map[string]string
			for range 2 {
				if _, err := st.PutOrg(ctx, o, -1, admin); err != nil {
					t.Fatal(err)
				}
				want = append(want, dump(t, rdb))
			}
			rdb.FlushAll(ctx)
			for i := range 2 {
				var last int64
				stats, err := importFile(st, data, -1, func(done, total int64) {
					if done < last || done > total || total != int64(len(data)) {
						t.Errorf("progress %d of %d after %d", done, total, last)
					}
					last = done
				})
				if err != nil {
					t.Fatal(err)
				}
				if stats.Org != o.Org || stats.Revision != int64(i+1) || stats.Users != len(o.Users) || stats.Groups != len(o.Groups) || stats.Projects != len(o.Projects) {
					t.Fatalf("stats %+v", stats)
				}
				if last != int64(len(data)) {
					t.Fatalf("progress ended at %d of %d", last, len(data))
				}
				diffDumps(t, fmt.Sprintf("import %d", i+1), want[i], dump(t, rdb))
			}
		})
	}
}

// TestImportOrgRefusals: an invalid document, a changed build, a stale
// revision or a failure while writing leave Redis exactly as it was, with
// no temporary key left. (The field of a syntax error is checked as a
// prefix: it names the innermost value.)
func TestImportOrgRefusals(t *testing.T) {
	st := newStore(t)
	rdb := st.Client().(*redis.Client)
	var b bytes.Buffer
	c := gen.Config{Users: 3000, Seed: 2}
	_ = c.Validate()
	if err := gen.Write(&b, c); err != nil {
		t.Fatal(err)
	}
	good := b.Bytes()
	if _, err := importFile(st, good, -1, nil); err != nil {
		t.Fatal(err)
	}
	before := dump(t, rdb)

	edit := func(f func(m map[string]any)) []byte {
		var m map[string]any
		d := json.NewDecoder(bytes.NewReader(good))
		d.UseNumber()
		if err := d.Decode(&m); err != nil {
			t.Fatal(err)
		}
		f(m)
		out, _ := json.Marshal(m)
		return out
	}
	list := func(m map[string]any, k string) []any { return m[k].([]any) }
	obj := func(v any) map[string]any { return v.(map[string]any) }
	var shareAt string

	cases := []struct {
		name  string
		doc   []byte
		code  verr.Code
		field string
	}{
		{"unknown member in the last group", edit(func(m map[string]any) {
			gs := list(m, "groups")
			g := obj(gs[len(gs)-1])
			g["members"] = append(g["members"].([]any), "nobody")
		}), verr.Invalid, fmt.Sprintf("groups[%d].members[%d]", 14, 200)},
		{"share to an unknown group in the last project", edit(func(m map[string]any) {
			ps := list(m, "projects")
			env := obj(obj(obj(ps[len(ps)-1])["environments"])["prod"])
			shares := env["shares"].([]any)
			shareAt = fmt.Sprintf("projects[%d].environments.prod.shares[%d].subject.group", len(ps)-1, len(shares))
			env["shares"] = append(shares, map[string]any{"subject": map[string]any{"group": "nope"}, "roles": []any{"User"}})
		}), verr.Invalid, "share"},
		{"designer role on an unknown project", edit(func(m map[string]any) {
			m["designer_roles"] = append(list(m, "designer_roles"), map[string]any{"subject": map[string]any{"user": "u1"}, "role": "project_viewer", "scope": map[string]any{"project": "p99"}})
		}), verr.Invalid, "designer_roles[2].scope.project"},
		{"changed build", edit(func(m map[string]any) {
			ps := list(m, "projects")
			b := obj(list(obj(ps[3]), "builds")[1])
			b["branch"] = "other"
		}), verr.Conflict, "projects[3].builds[1]"},
		{"truncated file", good[:len(good)-40], verr.InvalidInput, "business_filters[0]"},
		{"broken last user", bytes.Replace(good, []byte(`"id":"u2999"`), []byte(`"id":"u2999",`), 1), verr.InvalidInput, "users[2999]"},
	}
	if n := len(list(mapOf(t, good), "groups")); n != 15 {
		t.Fatalf("gen wrote %d groups, the cases expect 15", n)
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.field == "share" {
				tc.field = shareAt
			}
			_, err := importFile(st, tc.doc, -1, nil)
			var ve *verr.Error
			if !errors.As(err, &ve) || ve.Code != tc.code || !strings.HasPrefix(ve.Field, tc.field) {
				t.Fatalf("want %s at %s, got %v", tc.code, tc.field, err)
			}
			diffDumps(t, "after a refusal", before, dump(t, rdb))
		})
	}

	t.Run("stale revision", func(t *testing.T) {
		if _, err := importFile(st, good, 0, nil); verr.CodeOf(err) != verr.PreconditionFailed {
			t.Fatalf("got %v", err)
		}
		diffDumps(t, "after a stale revision", before, dump(t, rdb))
	})
	t.Run("context canceled half way", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		doc, err := orgdoc.OpenStream(bytes.NewReader(good), int64(len(good)))
		if err != nil {
			t.Fatal(err)
		}
		_, err = st.ImportOrg(ctx, doc, -1, admin, func(done, total int64) {
			if done > total/2 {
				cancel()
			}
		})
		if err == nil {
			t.Fatal("an import whose context was canceled succeeded")
		}
		diffDumps(t, "after a canceled import", before, dump(t, rdb))
	})
	for k := range dump(t, rdb) {
		if strings.Contains(k, ":tmp:") {
			t.Fatalf("temporary key %s left", k)
		}
	}
}

func mapOf(t *testing.T, data []byte) map[string]any {
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

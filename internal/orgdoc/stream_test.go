package orgdoc

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/verdict-pdp/verdict/internal/verr"
)

// collector rebuilds an Org from what a streamed decode hands it.
type collector struct {
	o Org
	// group members so far; groups kept whole at GroupEnd
	members  []string
	started  string
	inGroup  bool
	batches  int
	maxBatch int
}

func (c *collector) Settings(org string, envs []string, ws []Workspace) error {
	c.o.Org, c.o.Environments, c.o.Workspaces = org, envs, ws
	return nil
}
func (c *collector) User(u *User) error { c.o.Users = append(c.o.Users, *u); return nil }
func (c *collector) Role(r *Role) error { c.o.Roles = append(c.o.Roles, *r); return nil }
func (c *collector) start(name string) error {
	if c.inGroup {
		return fmt.Errorf("group %q started inside group %q", name, c.started)
	}
	c.started, c.inGroup, c.members = name, true, nil
	return nil
}
func (c *collector) batch(ids []string) error {
	if !c.inGroup {
		return errors.New("members outside a group")
	}
	if len(ids) == 0 {
		return errors.New("an empty batch of members")
	}
	c.batches++
	c.maxBatch = max(c.maxBatch, len(ids))
	c.members = append(c.members, ids...)
	return nil
}
func (c *collector) end(name string, members []string) error {
	if !c.inGroup || c.started != name {
		return fmt.Errorf("group %q ended, %q started", name, c.started)
	}
	if len(members) != 0 {
		return fmt.Errorf("group %q ended with its members", name)
	}
	c.inGroup = false
	return nil
}
func (c *collector) GroupStart(name string) error      { return c.start(name) }
func (c *collector) GroupMembers(ids []string) error   { return c.batch(ids) }
func (c *collector) DesignerGroupStart(n string) error { return c.start(n) }
func (c *collector) DesignerGroupMembers(ids []string) error {
	return c.batch(ids)
}
func (c *collector) GroupEnd(g *Group) error {
	if err := c.end(g.Name, g.Members); err != nil {
		return err
	}
	g.Members = c.members
	c.o.Groups = append(c.o.Groups, *g)
	return nil
}
func (c *collector) DesignerGroupEnd(g *DesignerGroup) error {
	if err := c.end(g.Name, g.Members); err != nil {
		return err
	}
	g.Members = c.members
	c.o.DesignerGroups = append(c.o.DesignerGroups, *g)
	return nil
}
func (c *collector) LegacyGrant(g *LegacyGrant) error {
	c.o.LegacyGrants = append(c.o.LegacyGrants, *g)
	return nil
}
func (c *collector) DesignerRole(d *DesignerRole) error {
	c.o.DesignerRoles = append(c.o.DesignerRoles, *d)
	return nil
}
func (c *collector) Project(p *Project) error { c.o.Projects = append(c.o.Projects, *p); return nil }
func (c *collector) BusinessFilter(f *BusinessFilter) error {
	c.o.BusinessFilters = append(c.o.BusinessFilters, *f)
	return nil
}

// streamDecode decodes data with OpenStream and Decode.
func streamDecode(data []byte) (*Org, *collector, error) {
	st, err := OpenStream(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, nil, err
	}
	c := &collector{}
	if err := st.Decode(c, nil); err != nil {
		return nil, c, err
	}
	return &c.o, c, nil
}

// encodeOrdered writes v (from generic) as JSON with object keys sorted, or
// reverse sorted: the streamed decoder must not care about member order.
func encodeOrdered(b *bytes.Buffer, v any, reverse bool) {
	switch x := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		if reverse {
			slices.Reverse(keys)
		}
		b.WriteString("{\n")
		for i, k := range keys {
			if i > 0 {
				b.WriteString(",\n")
			}
			kb, _ := json.Marshal(k)
			b.Write(kb)
			b.WriteString(" : ")
			encodeOrdered(b, x[k], reverse)
		}
		b.WriteString("\n}")
	case []any:
		b.WriteString("[ ")
		for i, e := range x {
			if i > 0 {
				b.WriteString(" , ")
			}
			encodeOrdered(b, e, reverse)
		}
		b.WriteString(" ]")
	default:
		vb, _ := json.Marshal(x)
		b.Write(vb)
	}
}

// streamDocs returns valid documents: the fixture and acme's orgs, each as
// written, as json.Marshal writes it (Org's field order), and with every
// object's members in sorted and reverse sorted order.
func streamDocs(t *testing.T) map[string][]byte {
	docs := map[string][]byte{"fixture": readFixture(t)}
	if data, err := os.ReadFile(acmePath); err == nil {
		c, err := DecodeCorpus(data)
		if err != nil {
			t.Fatal(err)
		}
		for i := range c.Orgs {
			docs[fmt.Sprintf("acme orgs[%d]", i)] = marshal(t, c.Orgs[i])
		}
	} else {
		t.Log("../shared is absent: acme's orgs are not streamed")
	}
	// A group of many members (more than a batch), listed before and after its name.
	big := generic(t, readFixture(t))
	users := big["users"].([]any)
	var members []any
	for i := range 2500 {
		id := fmt.Sprintf("m%d", i)
		users = append(users, map[string]any{"id": id, "username": "user-" + id, "status": "active"})
		members = append(members, id)
	}
	big["users"] = users
	big["groups"] = append(big["groups"].([]any), map[string]any{"name": "Many", "members": members})
	docs["big group"] = marshal(t, big)
	for name, data := range maps(docs) {
		o, err := DecodeOrg(data)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		docs[name+", Org order"] = marshal(t, o)
		for _, rev := range []bool{false, true} {
			var b bytes.Buffer
			encodeOrdered(&b, generic(t, data), rev)
			docs[fmt.Sprintf("%s, sorted (reverse %v)", name, rev)] = b.Bytes()
		}
	}
	return docs
}

func maps(m map[string][]byte) map[string][]byte {
	out := make(map[string][]byte, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// TestStreamMatchesDecodeOrg: valid documents decode to the same org both
// ways, also with a scanner window of a few bytes (every token then crosses
// window edges).
func TestStreamMatchesDecodeOrg(t *testing.T) {
	docs := streamDocs(t)
	for _, window := range []int{scanWindow, 8, 13} {
		defer func(w int) { scanWindow = w }(scanWindow)
		scanWindow = window
		for name, data := range docs {
			t.Run(fmt.Sprintf("%s, window %d", name, window), func(t *testing.T) {
				want, err := DecodeOrg(data)
				if err != nil {
					t.Fatal(err)
				}
				got, c, err := streamDecode(data)
				if err != nil {
					t.Fatal(err)
				}
				if g, w := string(marshal(t, got)), string(marshal(t, want)); g != w {
					t.Fatalf("streamed org differs:\n got %s\nwant %s", g, w)
				}
				if c.maxBatch > memberBatch {
					t.Fatalf("a batch of %d members, more than %d", c.maxBatch, memberBatch)
				}
				// Walk hands the decoded org over in the same shape.
				w := &collector{}
				if err := want.Walk(w); err != nil {
					t.Fatal(err)
				}
				if g, x := string(marshal(t, w.o)), string(marshal(t, want)); g != x {
					t.Fatalf("walked org differs:\n got %s\nwant %s", g, x)
				}
			})
		}
	}
}

// TestStreamErrors: a document with one problem is refused with the same
// code, path and message both ways.
func TestStreamErrors(t *testing.T) {
	type tc struct {
		name string
		doc  []byte
	}
	// Documents with two problems, where DecodeOrg reports the syntax error
	// (it parses everything first) and Decode the first problem in
	// Validate's order (see Stream): both must refuse them.
	multi := map[string]bool{
		"raw: syntax error keeps the path": true, // and no org id
		"top scalar runs on":               true, // and an unknown member
	}
	var cases []tc
	for _, c := range orgErrorCases {
		cases = append(cases, tc{"rule: " + c.name, c.doc(t)})
		o := generic(t, c.doc(t))
		var b bytes.Buffer
		encodeOrdered(&b, o, true)
		cases = append(cases, tc{"rule, reverse order: " + c.name, b.Bytes()})
	}
	for _, c := range rawInputCases {
		cases = append(cases, tc{"raw: " + c.name, []byte(c.doc)})
	}
	for _, s := range brokenSeeds {
		cases = append(cases, tc{"seed: " + s, []byte(s)})
	}
	cases = append(cases,
		tc{"member not a string", []byte(`{"org":"a","users":[{"id":"u","username":"u","status":"active"}],"groups":[{"name":"G","members":["u",1]}]}`)},
		tc{"members not a list", []byte(`{"org":"a","groups":[{"name":"G","members":{}}]}`)},
		tc{"group not an object", []byte(`{"org":"a","groups":[["G"]]}`)},
		tc{"group null", []byte(`{"org":"a","groups":[null]}`)},
		tc{"unknown group field", []byte(`{"org":"a","groups":[{"name":"G","colour":"red"}]}`)},
		tc{"member list broken", []byte(`{"org":"a","users":[{"id":"u","username":"u","status":"active"}],"groups":[{"name":"G","members":["u" "v"]}]}`)},
		tc{"member list cut", []byte(`{"org":"a","users":[{"id":"u","username":"u","status":"active"}],"groups":[{"name":"G","members":["u",`)},
		tc{"scalar runs on", []byte(`{"org":"a","users":[truex]}`)},
		tc{"top scalar runs on", []byte(`{"org":"a","x":nullx}`)},
		tc{"top scalar runs on, known member", []byte(`{"org":"a","environments":nullx}`)},
		tc{"bracket mismatch in an element", []byte(`{"org":"a","users":[{"id":"u"]]}`)},
		tc{"bracket mismatch in a member", []byte(`{"org":"a","environments":["x"}}`)},
		tc{"trailing comma in a list", []byte(`{"org":"a","users":[{"id":"u","username":"u","status":"active"},]}`)},
		tc{"missing colon", []byte(`{"org" "a"}`)},
		tc{"bad escape in a key", []byte(`{"org":"a","us\ers":[]}`)},
		tc{"invalid UTF-8 in a key", []byte("{\"org\":\"a\",\"\xffx\":[]}")},
		tc{"invalid UTF-8 in a user", []byte("{\"org\":\"a\",\"users\":[{\"id\":\"\xff\"}]}")},
		tc{"control character in a member", []byte("{\"org\":\"a\",\"users\":[{\"id\":\"u\",\"username\":\"u\",\"status\":\"active\"}],\"groups\":[{\"name\":\"G\",\"members\":[\"u\n\"]}]}")},
		tc{"designer role names a later project", []byte(`{"org":"a","users":[{"id":"u","username":"u","status":"active"}],"designer_roles":[{"subject":{"user":"u"},"role":"project_owner","scope":{"project":"p"}}],"projects":[{"id":"q","workspace":"w"}]}`)},
		tc{"projects broken, designer roles first", []byte(`{"org":"a","designer_roles":[],"projects":[{"id":"p","workspace":"w","builds":[{"id":1}}]}`)},
		tc{"deep group", []byte(`{"org":"a","groups":[{"name":` + strings.Repeat("[", 200) + strings.Repeat("]", 200) + `}]}`)},
		tc{"deep members", []byte(`{"org":"a","groups":[{"name":"G","members":[` + strings.Repeat("[", 200) + strings.Repeat("]", 200) + `]}]}`)},
		tc{"deep project", []byte(`{"org":"a","designer_roles":[],"projects":[{"id":"p","workspace":"w","x":` + strings.Repeat("[", 200) + strings.Repeat("]", 200) + `}]}`)},
		tc{"corpus is not an org", []byte(`{"orgs":[]}`)},
	)
	for _, window := range []int{scanWindow, 8} {
		defer func(w int) { scanWindow = w }(scanWindow)
		scanWindow = window
		for _, c := range cases {
			t.Run(fmt.Sprintf("%s, window %d", c.name, window), func(t *testing.T) {
				_, want := DecodeOrg(c.doc)
				_, _, got := streamDecode(c.doc)
				if want == nil {
					t.Fatalf("DecodeOrg accepts %s", c.doc)
				}
				var we, ge *verr.Error
				if !errors.As(want, &we) || !errors.As(got, &ge) {
					t.Fatalf("want %v, got %v", want, got)
				}
				if multi[c.name] {
					t.Logf("two problems: DecodeOrg says %v, Decode says %v", want, got)
					return
				}
				if we.Code != ge.Code || we.Field != ge.Field || we.Message != ge.Message || !slices.Equal(we.Allowed, ge.Allowed) {
					t.Fatalf("\nwant %v (allowed %v)\n got %v (allowed %v)", we, we.Allowed, ge, ge.Allowed)
				}
			})
		}
	}
}

// FuzzStream: whatever the input, the streamed decoder accepts exactly what
// DecodeOrg accepts, decodes it to the same org, and refuses the rest with a
// *verr.Error.
func FuzzStream(f *testing.F) {
	for _, s := range brokenSeeds {
		f.Add([]byte(s))
	}
	for _, b := range orgSeeds(f) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		want, werr := DecodeOrg(data)
		got, _, gerr := streamDecode(data)
		switch {
		case werr == nil && gerr != nil:
			t.Fatalf("DecodeOrg accepts, Decode refuses: %v", gerr)
		case werr != nil && gerr == nil:
			t.Fatalf("DecodeOrg refuses (%v), Decode accepts", werr)
		case werr != nil:
			checkDecodeErr(t, gerr)
		default:
			if g, w := string(marshal(t, got)), string(marshal(t, want)); g != w {
				t.Fatalf("streamed org differs:\n got %s\nwant %s", g, w)
			}
		}
	})
}

package orgdoc

import (
	"io"
	"reflect"

	"github.com/verdict-pdp/verdict/internal/verr"
)

// OrgHandler receives an org part by part: from a streamed document
// (Stream.Decode, each part decoded and validated first) or from an org in
// memory (Org.Walk). Parts come in the order of Org's fields, whatever the
// order of the document's members: the settings, then every user, role,
// group, legacy grant, designer group, designer role, project and business
// filter, each section in document order. A group comes as GroupStart (its
// name), its members in batches (none for a group without members) and
// GroupEnd (the group without its members, which a document may list before
// the rest of the group). A handler must not keep what it is given beyond
// the call; an error it returns stops the walk and is returned as is.
type OrgHandler interface {
	Settings(org string, environments []string, workspaces []Workspace) error
	User(u *User) error
	Role(r *Role) error
	GroupStart(name string) error
	GroupMembers(ids []string) error
	GroupEnd(g *Group) error
	LegacyGrant(g *LegacyGrant) error
	DesignerGroupStart(name string) error
	DesignerGroupMembers(ids []string) error
	DesignerGroupEnd(g *DesignerGroup) error
	DesignerRole(d *DesignerRole) error
	Project(p *Project) error
	BusinessFilter(f *BusinessFilter) error
}

// memberBatch is how many group members GroupMembers gets at most at once.
const memberBatch = 1000

// Walk hands o to h in the order and shape Stream.Decode does, without
// validating it (DecodeOrg did).
func (o *Org) Walk(h OrgHandler) error {
	if err := h.Settings(o.Org, o.Environments, o.Workspaces); err != nil {
		return err
	}
	for i := range o.Users {
		if err := h.User(&o.Users[i]); err != nil {
			return err
		}
	}
	for i := range o.Roles {
		if err := h.Role(&o.Roles[i]); err != nil {
			return err
		}
	}
	for i := range o.Groups {
		g := o.Groups[i]
		if err := walkGroup(g.Name, g.Members, h.GroupStart, h.GroupMembers); err != nil {
			return err
		}
		g.Members = nil
		if err := h.GroupEnd(&g); err != nil {
			return err
		}
	}
	for i := range o.LegacyGrants {
		if err := h.LegacyGrant(&o.LegacyGrants[i]); err != nil {
			return err
		}
	}
	for i := range o.DesignerGroups {
		g := o.DesignerGroups[i]
		if err := walkGroup(g.Name, g.Members, h.DesignerGroupStart, h.DesignerGroupMembers); err != nil {
			return err
		}
		g.Members = nil
		if err := h.DesignerGroupEnd(&g); err != nil {
			return err
		}
	}
	for i := range o.DesignerRoles {
		if err := h.DesignerRole(&o.DesignerRoles[i]); err != nil {
			return err
		}
	}
	for i := range o.Projects {
		if err := h.Project(&o.Projects[i]); err != nil {
			return err
		}
	}
	for i := range o.BusinessFilters {
		if err := h.BusinessFilter(&o.BusinessFilters[i]); err != nil {
			return err
		}
	}
	return nil
}

func walkGroup(name string, members []string, start func(string) error, batch func([]string) error) error {
	if err := start(name); err != nil {
		return err
	}
	for i := 0; i < len(members); i += memberBatch {
		if err := batch(members[i:min(i+memberBatch, len(members))]); err != nil {
			return err
		}
	}
	return nil
}

// Stream is an org document decoded from a file one element at a time
// (a user, a role, a group member, a project...), so that memory does not
// grow with the document: OpenStream reads it once to find its top-level
// members, Decode reads it again, section after section, and hands each
// element, decoded and validated, to an OrgHandler.
//
// Decoding and validation are DecodeOrg's own, element by element: the same
// parser checks each element's bytes, strictDecode decodes it, and the same
// orgValidator methods check it (validate.go, validate_project.go). What
// DecodeOrg checks across the whole document is kept as follows:
//   - Sections are decoded in the order Validate checks them (identity,
//     users, roles, groups, ...) whatever their order in the file, by
//     reading each from its offset: every reference then names a section
//     already read, exactly as in Validate, and nothing is pending.
//   - The one reference to a later section, a designer role naming a
//     project, is checked against the project ids, read first in a quick
//     pass over the projects section.
//   - The names each section defines are kept for the later ones: small
//     sets (roles, groups, projects...) in maps as Validate keeps them, user
//     ids and usernames, as many as users, in compact sets (strSet).
//   - A group's members are streamed one by one too: a group of a million
//     users is as large as the users themselves.
//
// The one difference: DecodeOrg parses and decodes the whole document before
// it validates anything, so of several problems in a document it reports
// the first syntax error, else the first decoding error, else the first
// broken rule in Validate's order. Decode reports the first problem in
// Validate's order, whatever its kind (OpenStream has checked the document's
// outline, not every element's syntax). A document with one problem gets
// the same error, path and message both ways.
type Stream struct {
	r     io.ReaderAt
	size  int64
	keys  []string        // top-level members in document order
	spans map[string]span // top-level member -> its value's bytes
	org   string
}

type span struct{ off, end int64 }

// topWant is what follows a top-level member's value.
const topWant = "',' or '}'"

// OpenStream reads the document in r (size bytes) once, without keeping it,
// to find where each top-level member's value is. It refuses what is not a
// JSON object with the parser's errors; Decode does the rest.
func OpenStream(r io.ReaderAt, size int64) (*Stream, error) {
	st := &Stream{r: r, size: size, spans: map[string]span{}}
	s := newScanner(io.NewSectionReader(r, 0, size), 0, nil)
	s.ra = r
	c, ok := s.peek()
	switch {
	case s.err != nil:
		return nil, s.err
	case !ok:
		return nil, verr.New(verr.InvalidInput, "", "empty document")
	case c != '{':
		// Not an object: refused as DecodeOrg refuses it. This only reads
		// the document whole when it is not an org document at all.
		data, err := io.ReadAll(io.NewSectionReader(r, 0, size))
		if err != nil {
			return nil, err
		}
		raw, err := parseJSON(data)
		if err != nil {
			return nil, err
		}
		return nil, wrongType(nil, "an object", raw)
	}
	err := s.object(nil, func(k string, kl *loc) error {
		s.peek()
		off := s.offset()
		var err error
		switch {
		case k == "org":
			var raw any
			raw, err = s.value(kl, 1, nil, topWant)
			st.org, _ = raw.(string)
		case s.is('['):
			err = s.array(kl, func(i int, el *loc) error { return s.skip(el, 2, kl, "',' or ']'") })
		default:
			err = s.skip(kl, 1, nil, topWant)
		}
		st.keys = append(st.keys, k)
		st.spans[k] = span{off, s.offset()}
		return err
	})
	if err != nil {
		return nil, err
	}
	if _, more := s.peek(); more {
		return nil, verr.New(verr.InvalidInput, "", "unexpected data after the document at offset %d", s.offset())
	}
	if s.err != nil {
		return nil, s.err
	}
	return st, nil
}

// IsCorpus reports whether the document is a decision corpus (it has
// "orgs"), not an org document.
func (st *Stream) IsCorpus() bool { _, ok := st.spans["orgs"]; return ok }

// Org returns the document's org id as written, "" when it has none or
// one that is not a string (Decode says why).
func (st *Stream) Org() string { return st.org }

// Size returns the document's size in bytes.
func (st *Stream) Size() int64 { return st.size }

// Decode decodes and validates the document element by element, handing
// each to h (see OrgHandler), and returns the first problem as DecodeOrg
// would (see Stream). progress, when not nil, is told the bytes read so far
// of the document's size. Decode may be called again: it reads the document
// afresh.
func (st *Stream) Decode(h OrgHandler, progress func(done, total int64)) error {
	fields := jsonFields(reflect.TypeFor[Org]())
	for _, k := range st.keys {
		if _, ok := fields[k]; !ok {
			return unknownField((*loc)(nil).child(k), k, fields)
		}
	}
	d := &decoder{st: st, progress: progress}

	var id Org
	if err := d.whole("org", &id.Org); err != nil {
		return err
	}
	if err := d.whole("environments", &id.Environments); err != nil {
		return err
	}
	if err := d.whole("workspaces", &id.Workspaces); err != nil {
		return err
	}
	userIDs, usernames := newStrSet(), newStrSet()
	v := newValidator(&id, "", userIDs, usernames)
	if err := v.identity(); err != nil {
		return err
	}
	if err := h.Settings(id.Org, id.Environments, id.Workspaces); err != nil {
		return err
	}

	err := eachElem(d, "users", func(i int, path string, u *User) error {
		if err := v.user(path, u); err != nil {
			return err
		}
		return h.User(u)
	})
	if err != nil {
		return err
	}
	if userIDs.full || usernames.full {
		return verr.New(verr.InvalidInput, "users", "too many users to stream: their ids or usernames take more than 4 GiB")
	}
	if err := eachElem(d, "roles", func(i int, path string, r *Role) error {
		if err := v.role(path, r); err != nil {
			return err
		}
		return h.Role(r)
	}); err != nil {
		return err
	}
	if err := d.groups(v, groupKind{
		section: "groups", typ: reflect.TypeFor[Group](), checkName: v.groupName,
		start: h.GroupStart, members: h.GroupMembers,
		end: func(g reflect.Value) error { return h.GroupEnd(g.Interface().(*Group)) },
	}); err != nil {
		return err
	}
	if err := eachElem(d, "legacy_grants", func(i int, path string, g *LegacyGrant) error {
		if err := v.legacyGrant(path, g); err != nil {
			return err
		}
		return h.LegacyGrant(g)
	}); err != nil {
		return err
	}
	if err := d.groups(v, groupKind{
		section: "designer_groups", typ: reflect.TypeFor[DesignerGroup](), checkName: v.designerGroupName,
		start: h.DesignerGroupStart, members: h.DesignerGroupMembers,
		end: func(g reflect.Value) error { return h.DesignerGroupEnd(g.Interface().(*DesignerGroup)) },
	}); err != nil {
		return err
	}
	if _, ok := st.spans["designer_roles"]; ok {
		projects, err := d.projectIDs()
		if err != nil {
			return err
		}
		owners := map[string]int{}
		if err := eachElem(d, "designer_roles", func(i int, path string, dr *DesignerRole) error {
			if err := v.designerRole(i, dr, projects, owners); err != nil {
				return err
			}
			return h.DesignerRole(dr)
		}); err != nil {
			return err
		}
	}
	projects := nameSet{}
	if err := eachElem(d, "projects", func(i int, path string, p *Project) error {
		if err := v.project(path, p, projects); err != nil {
			return err
		}
		return h.Project(p)
	}); err != nil {
		return err
	}
	filters := nameSet{}
	if err := eachElem(d, "business_filters", func(i int, path string, f *BusinessFilter) error {
		if err := v.businessFilter(path, f, filters); err != nil {
			return err
		}
		return h.BusinessFilter(f)
	}); err != nil {
		return err
	}
	if progress != nil {
		progress(st.size, st.size)
	}
	return nil
}

// decoder is one Decode.
type decoder struct {
	st       *Stream
	progress func(done, total int64)
	done     int64
}

// section returns a scanner at the value of top-level member name, reading
// up to its end, or false when the document has no such member. count says
// whether its bytes count as progress (the quick pass over the projects does
// not).
func (d *decoder) section(name string, count bool) (*scanner, bool) {
	sp, ok := d.st.spans[name]
	if !ok {
		return nil, false
	}
	var onRead func(int)
	if count && d.progress != nil {
		onRead = func(n int) {
			d.done += int64(n)
			d.progress(d.done, d.st.size)
		}
	}
	s := newScanner(io.NewSectionReader(d.st.r, sp.off, sp.end-sp.off), sp.off, onRead)
	s.ra = d.st.r
	return s, true
}

// finish checks that the section's value was all of it (it is, unless the
// file changed since OpenStream).
func finish(s *scanner, err error) error {
	if err != nil {
		return err
	}
	if _, more := s.peek(); more {
		return s.unexpected(nil, topWant)
	}
	return s.err
}

// whole decodes top-level member name, a small one, into dst (a pointer).
func (d *decoder) whole(name string, dst any) error {
	s, ok := d.section(name, true)
	if !ok {
		return nil
	}
	l := (*loc)(nil).child(name)
	raw, err := s.value(l, 1, nil, topWant)
	if err == nil {
		err = strictDecode(l, raw, reflect.ValueOf(dst).Elem())
	}
	return finish(s, err)
}

// eachElem decodes the list at top-level member section one element at a
// time into a T and calls each with its index and path.
func eachElem[T any](d *decoder, section string, each func(i int, path string, x *T) error) error {
	s, ok := d.section(section, true)
	if !ok {
		return nil
	}
	l := (*loc)(nil).child(section)
	return finish(s, s.list(l, 1, nil, topWant, func(i int, el *loc) error {
		raw, err := s.value(el, 2, l, "',' or ']'")
		if err != nil {
			return err
		}
		var x T
		if err := strictDecode(el, raw, reflect.ValueOf(&x).Elem()); err != nil {
			return err
		}
		return each(i, index(section, i), &x)
	}))
}

// groupKind is what differs between groups and designer groups.
type groupKind struct {
	section   string
	typ       reflect.Type // Group or DesignerGroup: name, members and more
	checkName func(gp, name string) error
	start     func(name string) error
	members   func(ids []string) error
	end       func(g reflect.Value) error // a *Group or *DesignerGroup
}

// groups decodes a list of groups, streaming the members of each: the
// group's other members (name, attributes) are decoded as strictDecode
// would, and the members one by one once the name is known and checked. A
// group that lists its members before its name has them decoded whole
// (Validate checks the name first, and the handler needs it first).
func (d *decoder) groups(v *orgValidator, k groupKind) error {
	s, ok := d.section(k.section, true)
	if !ok {
		return nil
	}
	l := (*loc)(nil).child(k.section)
	fields := jsonFields(k.typ)
	nameField, membersField := fields["name"], fields["members"]
	seen := newStrSet()
	batch := make([]string, 0, memberBatch)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := k.members(batch)
		batch = batch[:0]
		return err
	}
	return finish(s, s.list(l, 1, nil, topWant, func(i int, el *loc) error {
		gp := index(k.section, i)
		g := reflect.New(k.typ).Elem()
		if !s.is('{') {
			raw, err := s.value(el, 2, l, "',' or ']'")
			if err != nil {
				return err
			}
			return strictDecode(el, raw, g) // refuses anything but an object
		}
		named, started := false, false
		seen.reset()
		err := s.object(el, func(key string, kl *loc) error {
			fi, known := fields[key]
			if !known {
				return unknownField(kl, key, fields)
			}
			if key == "members" && named {
				started = true
				if err := k.start(g.Field(nameField).String()); err != nil {
					return err
				}
				mp := field(gp, "members")
				err := s.list(kl, 3, el, topWant, func(j int, ml *loc) error {
					raw, err := s.value(ml, 4, kl, "',' or ']'")
					if err != nil {
						return err
					}
					id, ok := raw.(string)
					if !ok {
						return wrongType(ml, "a string", raw)
					}
					if err := v.member(mp, j, id, seen); err != nil {
						return err
					}
					if batch = append(batch, id); len(batch) == memberBatch {
						return flush()
					}
					return nil
				})
				if err != nil {
					return err
				}
				return flush()
			}
			raw, err := s.value(kl, 3, el, topWant)
			if err != nil {
				return err
			}
			if err := strictDecode(kl, raw, g.Field(fi)); err != nil {
				return err
			}
			if key == "name" {
				named = true
				return k.checkName(gp, g.Field(nameField).String())
			}
			return nil
		})
		if err != nil {
			return err
		}
		name := g.Field(nameField).String()
		if !named {
			if err := k.checkName(gp, name); err != nil {
				return err
			}
		}
		if !started {
			members := g.Field(membersField).Interface().([]string)
			if err := v.members(field(gp, "members"), members); err != nil {
				return err
			}
			if err := walkGroup(name, members, k.start, k.members); err != nil {
				return err
			}
			g.Field(membersField).SetZero()
		}
		return k.end(g.Addr())
	}))
}

// projectIDs reads the id of every project, for the designer roles that
// come before the projects (Validate gives them all the org's projects): a
// quick pass over the projects section that decodes nothing else.
func (d *decoder) projectIDs() (nameSet, error) {
	ids := nameSet{}
	s, ok := d.section("projects", false)
	if !ok {
		return ids, nil
	}
	l := (*loc)(nil).child("projects")
	err := s.list(l, 1, nil, topWant, func(i int, el *loc) error {
		if !s.is('{') {
			return s.skip(el, 2, l, "',' or ']'")
		}
		return s.object(el, func(k string, kl *loc) error {
			if k != "id" {
				return s.skip(kl, 3, el, topWant)
			}
			raw, err := s.value(kl, 3, el, topWant)
			if id, ok := raw.(string); ok {
				ids[id] = id != ""
			}
			return err
		})
	})
	return ids, finish(s, err)
}

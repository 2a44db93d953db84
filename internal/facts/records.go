package facts

import (
	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/verdict-pdp/verdict/internal/orgdoc"
)

// The decoders of each stored record kind (docs/redis-keys.md), each
// rendering the indexed shape of docs/data-model.md. The stored records are
// the org document's own JSON plus a position "#"; every member is read and
// checked, and what the policies do not read (an email, a position) is
// checked and dropped.

// user decodes a users record (hash field uid) and reports whether the user
// is active.
func (d *decoder) user(uid string) (*ast.Term, bool, error) {
	obj := ast.NewObjectWithCapacity(6)
	var id, status string
	var seen bool
	err := d.object(func(name string) error {
		var err error
		switch name {
		case "#":
			return d.position()
		case "id":
			id, err = d.nonEmpty()
		case "username":
			var s string
			if s, err = d.nonEmpty(); err == nil {
				item(obj, "username", ast.StringTerm(s))
				seen = true
			}
		case "status":
			if status, err = d.str(); err == nil && status != "active" && status != "invited" && status != "disabled" {
				err = d.fail("status %q is none of active, invited, disabled", status)
			}
		case "designer_user", "service_account":
			var b bool
			if b, err = d.boolean(); err == nil && b {
				item(obj, name, ast.InternedTerm(true))
			}
		case "attributes":
			var a *ast.Term
			if a, err = d.attributes(); err == nil && a.Value.(ast.Object).Len() > 0 {
				item(obj, "attributes", a)
			}
		case "email", "last_seen":
			_, err = d.str()
		default:
			err = d.unknown(name)
		}
		return err
	})
	if err == nil {
		err = d.end()
	}
	switch {
	case err != nil:
		return nil, false, err
	case id != uid:
		return nil, false, invalid(d.key, d.field, "/id", "the record of user %q says id %q", uid, id)
	case status == "" || !seen:
		return nil, false, invalid(d.key, d.field, "", "a user record needs id, username and status")
	}
	item(obj, "id", ast.StringTerm(id))
	item(obj, "status", ast.InternedTerm(status))
	return ast.NewTerm(obj), status == "active", nil
}

// settings checks the org's settings record, {"environments", "workspaces":
// [{"id"}]}: the script read the workspaces (their all_users groups' designer
// assignments); a record it could read but that is not what it must be is
// refused all the same.
func (d *decoder) settings() error {
	err := d.object(func(name string) error {
		switch name {
		case "environments":
			_, err := d.nullableStrings()
			return err
		case "workspaces":
			if d.dec.PeekKind() == 'n' {
				_, err := d.dec.ReadToken()
				return d.wrapIf(err)
			}
			if _, err := d.token('[', "an array"); err != nil {
				return err
			}
			for d.dec.PeekKind() != ']' {
				err := d.object(func(m string) error {
					if m != "id" {
						return d.unknown(m)
					}
					_, err := d.nonEmpty()
					return err
				})
				if err != nil {
					return err
				}
			}
			_, err := d.dec.ReadToken()
			return d.wrapIf(err)
		default:
			return d.unknown(name)
		}
	})
	if err == nil {
		err = d.end()
	}
	return err
}

// names decodes a list of names (user_groups, dgroups_of).
func (d *decoder) names() (*ast.Term, error) {
	t, err := d.strings()
	if err == nil {
		err = d.end()
	}
	return t, err
}

// group decodes a runtime group record: {attributes?} (members are indexed
// per user).
func (d *decoder) group(name string) (*ast.Term, error) {
	obj := ast.NewObjectWithCapacity(1)
	var got string
	err := d.object(func(member string) error {
		var err error
		switch member {
		case "#":
			return d.position()
		case "name":
			got, err = d.nonEmpty()
		case "attributes":
			var a *ast.Term
			if a, err = d.attributes(); err == nil && a.Value.(ast.Object).Len() > 0 {
				item(obj, "attributes", a)
			}
		default:
			err = d.unknown(member)
		}
		return err
	})
	if err == nil {
		err = d.end()
	}
	if err == nil && got != name {
		err = invalid(d.key, d.field, "/name", "the record of group %q says name %q", name, got)
	}
	return ast.NewTerm(obj), err
}

// legacy decodes a user's legacy grants: [{"role", "#"}] -> [role].
func (d *decoder) legacy() (*ast.Term, error) {
	if _, err := d.token('[', "an array"); err != nil {
		return nil, err
	}
	arr := ast.NewArrayWithCapacity(2)
	for d.dec.PeekKind() != ']' {
		var role string
		err := d.object(func(name string) error {
			var err error
			switch name {
			case "#":
				return d.position()
			case "role":
				role, err = d.nonEmpty()
			default:
				err = d.unknown(name)
			}
			return err
		})
		if err == nil && role == "" {
			err = d.fail("a legacy grant without a role")
		}
		if err != nil {
			return nil, err
		}
		arr = arr.Append(ast.InternedTerm(role))
	}
	if _, err := d.dec.ReadToken(); err != nil {
		return nil, d.wrap(err)
	}
	return ast.NewTerm(arr), d.end()
}

// assignments decodes designer role assignments: [{"#", "role", "scope"}]
// -> [{"role", "scope": {"org": true} | {"workspace"} | {"project"}}].
func (d *decoder) assignments() (*ast.Term, error) {
	if _, err := d.token('[', "an array"); err != nil {
		return nil, err
	}
	arr := ast.NewArrayWithCapacity(2)
	for d.dec.PeekKind() != ']' {
		var role string
		var scope *ast.Term
		err := d.object(func(name string) error {
			var err error
			switch name {
			case "#":
				return d.position()
			case "role":
				role, err = d.nonEmpty()
			case "scope":
				scope, err = d.scope()
			default:
				err = d.unknown(name)
			}
			return err
		})
		if err == nil && (role == "" || scope == nil) {
			err = d.fail("a designer role assignment needs a role and a scope")
		}
		if err != nil {
			return nil, err
		}
		arr = arr.Append(ast.ObjectTerm(
			[2]*ast.Term{ast.InternedTerm("role"), ast.InternedTerm(role)},
			[2]*ast.Term{ast.InternedTerm("scope"), scope},
		))
	}
	if _, err := d.dec.ReadToken(); err != nil {
		return nil, d.wrap(err)
	}
	return ast.NewTerm(arr), d.end()
}

// scope decodes a designer scope: exactly one of org (true), workspace,
// project.
func (d *decoder) scope() (*ast.Term, error) {
	var k string
	var v *ast.Term
	n := 0
	err := d.object(func(name string) error {
		switch name {
		case "org":
			b, err := d.boolean()
			if err == nil && b {
				k, v, n = name, ast.InternedTerm(true), n+1
			}
			return err
		case "workspace", "project":
			s, err := d.str()
			if err == nil && s != "" {
				k, v, n = name, ast.InternedTerm(s), n+1
			}
			return err
		default:
			return d.unknown(name)
		}
	})
	if err == nil && n != 1 {
		err = d.fail("a scope names exactly one of org, workspace, project")
	}
	if err != nil {
		return nil, err
	}
	return ast.ObjectTerm([2]*ast.Term{ast.InternedTerm(k), v}), nil
}

// project decodes a projects record into {"workspace", "flow_permissions"?}
// (builds and environments are added by the caller).
func (d *decoder) project(pid string) (ast.Object, error) {
	obj := ast.NewObjectWithCapacity(4)
	var id string
	err := d.object(func(name string) error {
		var err error
		switch name {
		case "#":
			return d.position()
		case "id":
			id, err = d.nonEmpty()
		case "workspace":
			var w string
			if w, err = d.nonEmpty(); err == nil {
				item(obj, "workspace", ast.InternedTerm(w))
			}
		case "flow_permissions":
			var fp *ast.Term
			if fp, err = d.flowPermissions(); err == nil {
				item(obj, "flow_permissions", fp)
			}
		case "environments":
			_, err = d.strings()
		default:
			err = d.unknown(name)
		}
		return err
	})
	if err == nil {
		err = d.end()
	}
	if err == nil && id != pid {
		err = invalid(d.key, d.field, "/id", "the record of project %q says id %q", pid, id)
	}
	if err == nil && obj.Get(ast.InternedTerm("workspace")) == nil {
		err = invalid(d.key, d.field, "/workspace", "a project record needs a workspace")
	}
	return obj, err
}

// flowPermissions decodes {"defaults"?: entries, "flows"?: {flow: entries}}.
func (d *decoder) flowPermissions() (*ast.Term, error) {
	obj := ast.NewObjectWithCapacity(2)
	err := d.object(func(name string) error {
		switch name {
		case "defaults":
			e, err := d.flowEntries()
			if err == nil {
				item(obj, "defaults", e)
			}
			return err
		case "flows":
			flows := ast.NewObjectWithCapacity(4)
			err := d.object(func(flow string) error {
				e, err := d.flowEntries()
				if err == nil {
					flows.Insert(ast.InternedTerm(flow), e)
				}
				return err
			})
			if err == nil && flows.Len() > 0 {
				item(obj, "flows", ast.NewTerm(flows))
			}
			return err
		default:
			return d.unknown(name)
		}
	})
	return ast.NewTerm(obj), err
}

// flowEntries decodes {"users"?: {id: grant|deny}, "roles"?: {role: grant|deny}}.
func (d *decoder) flowEntries() (*ast.Term, error) {
	obj := ast.NewObjectWithCapacity(2)
	err := d.object(func(name string) error {
		if name != "users" && name != "roles" {
			return d.unknown(name)
		}
		m := ast.NewObjectWithCapacity(4)
		err := d.object(func(who string) error {
			v, err := d.str()
			if err == nil && v != "grant" && v != "deny" {
				err = d.fail("%q is neither grant nor deny", v)
			}
			if err == nil {
				m.Insert(ast.InternedTerm(who), ast.InternedTerm(v))
			}
			return err
		})
		if err == nil && m.Len() > 0 {
			item(obj, name, ast.NewTerm(m))
		}
		return err
	})
	return ast.NewTerm(obj), err
}

// policy decodes an active-policy choice: {"build"} or {"latest_on_branch"}.
func (d *decoder) policy() (*ast.Term, error) {
	var k, v string
	n := 0
	err := d.object(func(name string) error {
		if name != "build" && name != "latest_on_branch" {
			return d.unknown(name)
		}
		s, err := d.str()
		if err == nil && s != "" {
			k, v, n = name, s, n+1
		}
		return err
	})
	if err == nil && n != 1 {
		err = d.fail("a policy names exactly one of build, latest_on_branch")
	}
	if err != nil {
		return nil, err
	}
	return ast.ObjectTerm([2]*ast.Term{ast.InternedTerm(k), ast.InternedTerm(v)}), nil
}

// activePolicy decodes the "ap" field: {"#", "default": policy}.
func (d *decoder) activePolicy() (*ast.Term, error) {
	var def *ast.Term
	err := d.object(func(name string) error {
		var err error
		switch name {
		case "#":
			return d.position()
		case "default":
			def, err = d.policy()
		default:
			err = d.unknown(name)
		}
		return err
	})
	if err == nil {
		err = d.end()
	}
	if err == nil && def == nil {
		err = invalid(d.key, d.field, "/default", "an active policy needs a default")
	}
	return def, err
}

// override is one decoded active-policy override.
type override struct {
	kind, name string // username, group or role; and who it targets
	priority   *ast.Term
	policy     *ast.Term
}

// override decodes one override record (uo:, go:, and the items of ro).
func (d *decoder) override() (override, error) {
	var o override
	err := d.object(func(name string) error {
		var err error
		switch name {
		case "#":
			return d.position()
		case "type":
			if o.kind, err = d.str(); err == nil && o.kind != "username" && o.kind != "group" && o.kind != "role" {
				err = d.fail("override type %q is none of username, group, role", o.kind)
			}
		case "username", "group", "role":
			var s string
			if s, err = d.nonEmpty(); err == nil {
				if o.name != "" {
					err = d.fail("an override targets one username, group or role")
				}
				o.name = s
			}
		case "priority":
			var p int64
			if p, err = d.integer(); err == nil {
				o.priority = ast.InternedTerm(p)
			}
		case "policy":
			o.policy, err = d.policy()
		default:
			err = d.unknown(name)
		}
		return err
	})
	if err == nil && (o.kind == "" || o.name == "" || o.policy == nil) {
		err = d.fail("an override needs a type, its target and a policy")
	}
	if err == nil && o.kind != "username" && o.priority == nil {
		err = d.fail("a %s override needs a priority", o.kind)
	}
	return o, err
}

// share decodes a share record: {"#", "subject", "roles"} -> roles.
func (d *decoder) share() (*ast.Term, error) {
	var roles *ast.Term
	err := d.object(func(name string) error {
		var err error
		switch name {
		case "#":
			return d.position()
		case "subject":
			err = d.object(func(k string) error {
				if k != "user" && k != "group" {
					return d.unknown(k)
				}
				_, err := d.nonEmpty()
				return err
			})
		case "roles":
			roles, err = d.strings()
		default:
			err = d.unknown(name)
		}
		return err
	})
	if err == nil {
		err = d.end()
	}
	if err == nil && roles == nil {
		err = invalid(d.key, d.field, "/roles", "a share needs roles")
	}
	return roles, err
}

// filter decodes a business filter record: {"#", "id", "field", "attribute"}.
func (d *decoder) filter(fid string) (*ast.Term, error) {
	var id, field, attr string
	err := d.object(func(name string) error {
		var err error
		switch name {
		case "#":
			return d.position()
		case "id":
			id, err = d.nonEmpty()
		case "field":
			field, err = d.nonEmpty()
		case "attribute":
			attr, err = d.nonEmpty()
		default:
			err = d.unknown(name)
		}
		return err
	})
	if err == nil {
		err = d.end()
	}
	if err == nil && (id != fid || field == "" || attr == "") {
		err = invalid(d.key, d.field, "", "a filter record needs its id %q, a field and an attribute", fid)
	}
	if err != nil {
		return nil, err
	}
	return ast.ObjectTerm(
		[2]*ast.Term{ast.InternedTerm("field"), ast.StringTerm(field)},
		[2]*ast.Term{ast.InternedTerm("attribute"), ast.StringTerm(attr)},
	), nil
}

// build decodes a build manifest: {"branch", "created", "created_key",
// "roles", "ui_flows": {id: ...}, "processes": {id: ...}}.
func (d *decoder) build(bid string) (*ast.Term, error) {
	obj := ast.NewObjectWithCapacity(6)
	var id string
	err := d.object(func(name string) error {
		var err error
		switch name {
		case "#":
			return d.position()
		case "id":
			id, err = d.nonEmpty()
		case "branch":
			var s string
			if s, err = d.str(); err == nil {
				item(obj, "branch", ast.InternedTerm(s))
			}
		case "created":
			var s string
			if s, err = d.str(); err == nil {
				// created_key: the one definition, orgdoc's (data-model.md).
				var key string
				if key, err = orgdoc.CreatedKey(s); err != nil {
					err = d.fail("%v", err)
				} else {
					item(obj, "created", ast.StringTerm(s))
					item(obj, "created_key", ast.StringTerm(key))
				}
			}
		case "roles":
			var r *ast.Term
			if r, err = d.nullableStrings(); err == nil {
				item(obj, "roles", r)
			}
		case "ui_flows":
			var f *ast.Term
			if f, err = d.keyedList(d.uiFlow); err == nil {
				item(obj, "ui_flows", f)
			}
		case "processes":
			var p *ast.Term
			if p, err = d.keyedList(d.process); err == nil {
				item(obj, "processes", p)
			}
		default:
			err = d.unknown(name)
		}
		return err
	})
	if err == nil {
		err = d.end()
	}
	if err == nil && id != bid {
		err = invalid(d.key, d.field, "/id", "the record of build %q says id %q", bid, id)
	}
	for _, k := range [...]string{"branch", "created", "roles", "ui_flows", "processes"} {
		if err == nil && obj.Get(ast.InternedTerm(k)) == nil {
			switch k {
			case "roles", "ui_flows", "processes": // null or absent lists are empty
				empty := ast.NewTerm(ast.NewArray())
				if k != "roles" {
					empty = ast.NewTerm(ast.NewObject())
				}
				item(obj, k, empty)
			default:
				err = invalid(d.key, d.field, "/"+k, "a build needs %s", k)
			}
		}
	}
	return ast.NewTerm(obj), err
}

// keyedList decodes [{"id", ...}] into {id: {...}} with one decoder per item.
func (d *decoder) keyedList(one func() (string, *ast.Term, error)) (*ast.Term, error) {
	if d.dec.PeekKind() == 'n' {
		_, err := d.dec.ReadToken()
		return ast.NewTerm(ast.NewObject()), d.wrapIf(err)
	}
	if _, err := d.token('[', "an array"); err != nil {
		return nil, err
	}
	obj := ast.NewObjectWithCapacity(8)
	for d.dec.PeekKind() != ']' {
		id, v, err := one()
		if err != nil {
			return nil, err
		}
		obj.Insert(ast.InternedTerm(id), v)
	}
	_, err := d.dec.ReadToken()
	return ast.NewTerm(obj), d.wrapIf(err)
}

// uiFlow decodes {"id", "roles", "components"?: {id: {"hidden_for"?, "disabled_for"?}}}.
func (d *decoder) uiFlow() (string, *ast.Term, error) {
	obj := ast.NewObjectWithCapacity(2)
	var id string
	err := d.object(func(name string) error {
		var err error
		switch name {
		case "id":
			id, err = d.nonEmpty()
		case "roles":
			var r *ast.Term
			if r, err = d.nullableStrings(); err == nil {
				item(obj, "roles", r)
			}
		case "components":
			comps := ast.NewObjectWithCapacity(4)
			err = d.object(func(cid string) error {
				c := ast.NewObjectWithCapacity(2)
				err := d.object(func(k string) error {
					if k != "hidden_for" && k != "disabled_for" {
						return d.unknown(k)
					}
					r, err := d.nullableStrings()
					if err == nil && r.Value.(*ast.Array).Len() > 0 {
						item(c, k, r)
					}
					return err
				})
				comps.Insert(ast.InternedTerm(cid), ast.NewTerm(c))
				return err
			})
			if err == nil && comps.Len() > 0 {
				item(obj, "components", ast.NewTerm(comps))
			}
		default:
			err = d.unknown(name)
		}
		return err
	})
	if err == nil && id == "" {
		err = d.fail("a UI flow needs an id")
	}
	if err == nil && obj.Get(ast.InternedTerm("roles")) == nil {
		item(obj, "roles", ast.NewTerm(ast.NewArray()))
	}
	return id, ast.NewTerm(obj), err
}

// process decodes {"id", "roles", "swimlanes"?: {lane: {role: [rights]}}}.
func (d *decoder) process() (string, *ast.Term, error) {
	obj := ast.NewObjectWithCapacity(2)
	var id string
	lanes := ast.NewObjectWithCapacity(4)
	err := d.object(func(name string) error {
		var err error
		switch name {
		case "id":
			id, err = d.nonEmpty()
		case "roles":
			var r *ast.Term
			if r, err = d.nullableStrings(); err == nil {
				item(obj, "roles", r)
			}
		case "swimlanes":
			err = d.object(func(lane string) error {
				byRole := ast.NewObjectWithCapacity(4)
				err := d.object(func(role string) error {
					r, err := d.rights()
					if err == nil {
						byRole.Insert(ast.InternedTerm(role), r)
					}
					return err
				})
				lanes.Insert(ast.InternedTerm(lane), ast.NewTerm(byRole))
				return err
			})
		default:
			err = d.unknown(name)
		}
		return err
	})
	if err == nil && id == "" {
		err = d.fail("a process needs an id")
	}
	if err == nil && obj.Get(ast.InternedTerm("roles")) == nil {
		item(obj, "roles", ast.NewTerm(ast.NewArray()))
	}
	item(obj, "swimlanes", ast.NewTerm(lanes))
	return id, ast.NewTerm(obj), err
}

// rights decodes a role's swimlane rights: a list of view, execute,
// self_assign.
func (d *decoder) rights() (*ast.Term, error) {
	t, err := d.nullableStrings()
	if err != nil {
		return nil, err
	}
	for i := range t.Value.(*ast.Array).Len() {
		switch s := t.Value.(*ast.Array).Elem(i).Value.(ast.String); s {
		case "view", "execute", "self_assign":
		default:
			return nil, d.fail("swimlane right %q is none of view, execute, self_assign", string(s))
		}
	}
	return t, nil
}

// nullableStrings reads an array of strings, or null as an empty array (Go
// writes a nil slice as null).
func (d *decoder) nullableStrings() (*ast.Term, error) {
	if d.dec.PeekKind() == 'n' {
		_, err := d.dec.ReadToken()
		return ast.NewTerm(ast.NewArray()), d.wrapIf(err)
	}
	return d.strings()
}

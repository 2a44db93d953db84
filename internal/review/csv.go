package review

import (
	"encoding/csv"
	"io"
	"strconv"
	"strings"
)

// CSVHeader is the header of WriteCSV: one table for every part of a
// review, told apart by its first column.
var CSVHeader = []string{"finding", "user", "username", "project", "environment", "resource_type", "resource", "action", "detail"}

// CSV findings (the first column).
const (
	RowAccess        = "access"
	RowInactive      = "inactive"
	RowUnjustified   = "unjustified_designer_role"
	RowDisabledOwner = "disabled_project_owner"
	RowLegacyOnly    = "legacy_only"
)

// WriteCSV writes the review as CSV (RFC 4180), header first: the access
// rows, then the users inactive, the unjustified designer roles, the
// disabled project owners and the access that comes only from legacy
// grants.
func (r *Review) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	_ = cw.Write(CSVHeader)
	for _, a := range r.Access {
		detail := a.Detail
		if len(a.Via) > 0 {
			detail += "; " + strings.Join(a.Via, "; ")
		}
		_ = cw.Write([]string{RowAccess, a.User, a.Username, a.Project, a.Environment, a.ResourceType, a.Resource, a.Action, detail})
	}
	for _, u := range r.Inactive {
		seen := "never seen"
		if u.LastSeen != "" {
			seen = "last seen " + u.LastSeen
			if u.Days >= 0 {
				seen += " (" + strconv.Itoa(u.Days) + " days)"
			}
		}
		_ = cw.Write([]string{RowInactive, u.User, u.Username, "", "", "", "", "", seen + "; holds " + strings.Join(u.Holds, ", ")})
	}
	for _, d := range r.Unjustified {
		_ = cw.Write(designerRow(RowUnjustified, d))
	}
	for _, d := range r.DisabledOwners {
		_ = cw.Write(designerRow(RowDisabledOwner, d))
	}
	for _, l := range r.LegacyOnly {
		_ = cw.Write([]string{RowLegacyOnly, l.User, l.Username, l.Project, l.Environment, "solution", l.Project, "access", "legacy grants: " + strings.Join(l.Grants, ", ")})
	}
	cw.Flush()
	return cw.Error()
}

func designerRow(kind string, d DesignerRole) []string {
	user := d.Subject.User
	if user == "" {
		user = "group:" + d.Subject.Group
	}
	id := ""
	if d.ID > 0 {
		id = strconv.FormatInt(d.ID, 10)
	}
	detail := "scope " + scope(d.Scope)
	if d.Status != "" {
		detail += "; user " + d.Status
	}
	return []string{kind, user, "", d.Scope.Project, "", "designer_role", id, d.Role, detail + "; fix: " + d.Fix}
}

// WriteCSV writes the checklist as CSV: code, path, id, project,
// environment, message, fix.
func (c *Checklist) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"code", "path", "id", "project", "environment", "message", "fix"})
	for _, f := range c.Findings {
		_ = cw.Write([]string{f.Code, f.Path, f.ID, f.Project, f.Environment, f.Message, f.Fix})
	}
	cw.Flush()
	return cw.Error()
}

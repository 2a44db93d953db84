// Package migrate upgrades an organization from the 5.1 runtime model
// (docs/migration.md): org-level role-on-user assignments, end-user groups
// held in the IdP with their roles, UI flows with no role allow-list and
// active-policy role overrides. Convert turns a 5.1 export into a Verdict org
// document and a report that lists every change; Model51 is a plain reading
// of the 5.1 rules (the "before"); Replay asks the Verdict engine the same
// questions on the migrated document (the "after") for every user who had
// access, and explains or flags every decision that differs.
//
// Nothing here touches Redis or HTTP: the admin API and `verdict migrate`
// apply the document. Values are built per call and owned by the caller;
// everything is safe for concurrent use as long as callers do not share a
// value they are still changing.
package migrate

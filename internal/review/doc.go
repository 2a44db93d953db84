// Package review reads an organization the way its admins review it: the
// post-upgrade checklist (Check: findings, each naming the record at fault
// by its JSON path in the org document and the fix), and the access review
// (Run: who can do what, decided by the Verdict engine on the org's own
// facts, plus the users, designer roles and legacy grants a review must
// look at), in JSON or CSV (docs/review.md).
//
// Both work on one snapshot of the org (its exported document, read in one
// transaction, and the records kept apart from it: justifications and users
// the migration left uninvited), so a review names the revision it is
// about. The access review asks the decision service (pdp over an
// in-memory index of the snapshot) every question: no rule of the policies
// is written twice here. Values are built per call; nothing is shared.
package review

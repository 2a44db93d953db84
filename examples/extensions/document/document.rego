# An extension policy: the resource type "document", which Verdict does not
# know. Members of a department may read its documents; only their authors
# may edit them. Departments come from the user's attributes (and their
# groups'), documents from data.json beside this file.
package verdict.ext.document

import data.verdict.lib

docs := data.document_data.documents

departments contains d if some d in lib.attributes.department

departments contains d if {
	some g in lib.groups
	some d in lib.group_attributes(g).department
}

doc := docs[input.resource.id]

decision := {"decision": true, "context": {"department": doc.department}} if {
	input.action.name == "read"
	doc.department in departments
}

decision := {"decision": true, "context": {"author": true}} if {
	input.action.name == "edit"
	doc.author == input.subject.id
}

# Candidates for the searches.
resources := [{"id": id} | some id, _ in docs]

actions := ["read", "edit"]

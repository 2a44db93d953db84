# Rule 8, business filters. A filter names a record field and an attribute
# key; the allowed values are the union of the subject's own values for that
# key (from its verified token, else the user record) and those of its runtime
# groups. The answer is a condition, field IN values, ready for SQL; no values
# matches nothing. An inactive or unknown user has no values.
#
# Input: an AuthZEN-shaped request whose resource is
# {"type": "business_filter", "id": <filter id>}.
package verdict.filters

import data.verdict.lib

filter := lib.business_filter(input.resource.id)

key := filter.attribute

values contains v if {
	lib.active
	some v in lib.attributes[key]
}

values contains v if {
	lib.active
	some g in lib.groups
	some v in lib.group_attributes(g)[key]
}

# The condition, undefined for an unknown filter (the caller answers 404).
result := {"field": filter.field, "operator": "in", "values": sort(values)}

reasons contains lib.reason("business_filter", msg) if {
	lib.active
	some v in lib.attributes[key]
	msg := sprintf("%s=%s from the user's own attributes", [key, v])
}

reasons contains lib.reason("business_filter", msg) if {
	lib.active
	some g in lib.groups
	some v in lib.group_attributes(g)[key]
	msg := sprintf("%s=%s from group %s", [key, v, g])
}

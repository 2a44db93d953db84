# The row condition of a business filter, for OPA's compile support: with the
# row unknown, partial evaluation leaves "<table>.<column> IN values", which
# v1/rego/compile translates to SQL. input.table and input.column name the
# filter's field, input.values the allowed values (none: no row matches).
package verdict.filters.sql

include if input[input.table][input.column] in input.values

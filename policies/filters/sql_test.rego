package verdict.filters.sql_test

import data.verdict.filters.sql

test_row_in_values if {
	sql.include with input as {"table": "loans", "column": "region", "values": ["eu"], "loans": {"region": "eu"}}
}

test_row_not_in_values if {
	not sql.include with input as {"table": "loans", "column": "region", "values": ["eu"], "loans": {"region": "us"}}
	not sql.include with input as {"table": "loans", "column": "region", "values": [], "loans": {"region": "us"}}
}

package pdp

import (
	"context"
	"strconv"
	"testing"

	"github.com/verdict-pdp/verdict/internal/decision"
	"github.com/verdict-pdp/verdict/internal/verr"
)

func TestFilterSQL(t *testing.T) {
	s := &Service{}
	cases := []struct {
		values []string
		where  string
	}{
		{[]string{"ca", "us"}, "WHERE loans.region IN (E'ca', E'us')"},
		{[]string{}, "WHERE 0 = 1"},
		{[]string{"o'brien"}, `WHERE loans.region IN (E'o\'brien')`},
	}
	for _, c := range cases {
		q, err := s.FilterSQL(context.Background(), decision.Filter{Field: "loans.region", Operator: "in", Values: c.values})
		if err != nil || q.Where != c.where || q.Dialect != "postgresql" {
			t.Errorf("%v: got %+v %v, want %q", c.values, q, err, c.where)
		}
	}
	if _, err := s.FilterSQL(context.Background(), decision.Filter{Field: "region"}); verr.CodeOf(err) != verr.Invalid {
		t.Errorf("a field without a table: got %v", err)
	}
}

// TestFilterSQLTablesBounded: more distinct tables than SQLTablesMax keep
// SQLTablesMax prepared translations, and translate alike.
func TestFilterSQLTablesBounded(t *testing.T) {
	s := &Service{}
	for i := range SQLTablesMax + 20 {
		table := "t" + strconv.Itoa(i)
		q, err := s.FilterSQL(context.Background(), decision.Filter{Field: table + ".c", Operator: "in", Values: []string{"x"}})
		if err != nil || q.Where != "WHERE "+table+".c IN (E'x')" {
			t.Fatalf("%s: %+v %v", table, q, err)
		}
	}
	if n := sqlPrepared.Len(); n != SQLTablesMax {
		t.Fatalf("%d prepared SQL translations kept, bound %d", n, SQLTablesMax)
	}
}

package pdp

import (
	"context"
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

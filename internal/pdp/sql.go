package pdp

import (
	"context"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/rego/compile"
	"github.com/verdict-pdp/verdict/internal/decision"
	"github.com/verdict-pdp/verdict/internal/lru"
	"github.com/verdict-pdp/verdict/internal/verr"
	"github.com/verdict-pdp/verdict/policies"
)

// sqlPrepared keeps the SQL translation prepared per table. Tables come
// from the orgs' business filters (admin-written data, any number of orgs),
// not from a fixed list: the cache is bounded (docs/limits.md), least
// recently used forgotten.
var sqlPrepared = lru.New[*compile.Prepared](SQLTablesMax)

// SQLTablesMax bounds the tables whose SQL translation is kept prepared.
const SQLTablesMax = 256

// FilterSQL translates a filter condition to SQL with OPA's compile support
// (partial evaluation of verdict.filters.sql with the row unknown), never by
// string concatenation: values are quoted by the translator.
func (s *Service) FilterSQL(ctx context.Context, f decision.Filter) (decision.SQL, error) {
	table, column := "", f.Field
	if i := strings.LastIndex(f.Field, "."); i >= 0 {
		table, column = f.Field[:i], f.Field[i+1:]
	}
	if table == "" || column == "" {
		return decision.SQL{}, verr.New(verr.Invalid, "field", "a filter field must be <table>.<column> to translate to SQL, not %q", f.Field)
	}
	prep, err := prepareSQL(ctx, table)
	if err != nil {
		return decision.SQL{}, err
	}
	vals := make([]any, len(f.Values))
	for i, v := range f.Values {
		vals[i] = v
	}
	in := map[string]any{"table": table, "column": column, "values": vals}
	fs, err := prep.Compile(ctx, rego.EvalInput(in))
	if err != nil {
		return decision.SQL{}, verr.Wrap(verr.PolicyError, "", err, "translating filter to SQL: %v", err)
	}
	where, _ := fs.One().Query.(string)
	if where == "" {
		// Partial evaluation proved that no row matches (no values).
		where = "WHERE FALSE"
	}
	return decision.SQL{Dialect: "postgresql", Where: where}, nil
}

func prepareSQL(ctx context.Context, table string) (*compile.Prepared, error) {
	if p, ok := sqlPrepared.Get(table); ok {
		return p, nil
	}
	src, err := policies.File("filters/sql.rego")
	if err != nil {
		return nil, err
	}
	unknown := ast.NewTerm(ast.InputRootRef.Append(ast.StringTerm(table)))
	p, err := compile.New(
		compile.Target("sql", "postgresql"),
		compile.ParsedUnknowns(unknown),
		compile.ParsedQuery(ast.MustParseBody("data.verdict.filters.sql.include")),
		compile.Rego(rego.Module("filters/sql.rego", src)),
	).Prepare(ctx)
	if err != nil {
		return nil, verr.Wrap(verr.PolicyError, "", err, "preparing filter SQL: %v", err)
	}
	sqlPrepared.Add(table, p)
	return p, nil
}

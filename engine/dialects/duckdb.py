"""Our DuckDB dialect: sqlglot's DuckDB with the engine's own nodes written in DuckDB's SQL."""

from __future__ import annotations

from sqlglot import exp
from sqlglot.dialects.duckdb import DuckDB

from engine.dialects.nodes import DateFromDigits, FormatNumber, OneEdit, ToJson


def _format_number(self, node: FormatNumber) -> str:
    grouping = node.args.get("grouping")
    pattern = "{:" + ("," if grouping is not None and grouping.this else "") + f".{node.args['decimals'].name}f}}"
    return self.func("FORMAT", exp.Literal.string(pattern), node.this)


def _one_edit(self, node: OneEdit) -> str:
    a, b = node.this, node.expression
    condition = exp.and_(
        exp.EQ(this=exp.Length(this=a.copy()), expression=exp.Length(this=b.copy())),
        exp.LTE(this=exp.Anonymous(this="hamming", expressions=[a.copy(), b.copy()]), expression=exp.Literal.number(2)),
        exp.EQ(this=exp.Anonymous(this="damerau_levenshtein", expressions=[a.copy(), b.copy()]),
               expression=exp.Literal.number(1)))
    return self.sql(exp.paren(condition))


class LsmDuckDB(DuckDB):
    class Generator(DuckDB.Generator):
        TRANSFORMS = {
            **DuckDB.Generator.TRANSFORMS,
            FormatNumber: _format_number,
            ToJson: lambda self, e: self.func("TO_JSON", e.this),
            OneEdit: _one_edit,
            DateFromDigits: lambda self, e: self.sql(exp.cast(exp.Anonymous(
                this="try_strptime", expressions=[e.this, exp.Literal.string("%Y%m%d")]), "DATE")),
        }

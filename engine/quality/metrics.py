"""great-expectations' expectations evaluated in DuckDB, where the staged data lives.

GX stays the declaration (each check is a GX expectation configuration) and the report (each outcome is
a GX ``ExpectationValidationResult``), but its pandas execution engine is not used: it loads every
needed column into a pandas frame and evaluates row by row in Python objects (25 s per 2 M rows). Here
each expectation becomes one aggregate query over the staged Parquet, and one more for up to
``PARTIAL`` examples when something is unexpected. The result dictionaries hold the same keys GX's
``SUMMARY`` format gives (``element_count``, ``missing_count``, ``unexpected_count``,
``partial_unexpected_list``, ``partial_unexpected_index_list``, ``observed_value``) and success follows
GX's rules exactly:

* column-map expectations (in set, between, unique): vacuously true with no rows or no non-null
  values, else ``(non-null − unexpected) / non-null ≥ mostly``;
* not null: ``(rows − nulls) / rows ≥ mostly``, true with no rows;
* compound unique: rows whose columns are all empty are left out (GX's ``all_values_are_missing``);
  a combination seen more than once is unexpected in every row that has it (empty cells compare equal,
  as pandas' ``duplicated`` does);
* a column's maximum and the table's row count: within inclusive bounds, ``None`` meaning unbounded;
  a maximum over no values fails.

Examples come in the staged row order (``__n``, the Parquet row position), like GX's.

Example::

    source = StagedSource(con, "staged")            # a DuckDB relation with the column __n
    success, result = evaluate(source, "expect_column_values_to_not_be_null", {"column": "id_number"})
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
from sqlglot import exp

from engine.sql import ident, table_ref

PARTIAL = 20  # examples kept per expectation, as GX's partial_unexpected_count
ROW = "__n"   # the staged row position (0-based), for examples in file order


@dataclass(frozen=True)
class StagedSource:
    """A DuckDB connection and the name of the relation holding one dataset's staged rows; ``measured``
    keeps each expectation's metrics, so two checks that differ only in their threshold (a warning at
    90 %, a block at 50 %) scan the rows once."""

    con: duckdb.DuckDBPyConnection
    relation: str
    measured: dict = field(default_factory=dict)

    def one(self, query: exp.Select) -> tuple:
        return self.con.execute(query.sql("duckdb")).fetchall()[0]

    def values_at(self, column: str, positions: list[int]) -> list:
        """The column's values at these row positions, in the order given."""
        if not positions:
            return []
        query = (exp.select(exp.column(ROW), exp.column(column, quoted=True)).from_(table_ref(self.relation))
                 .where(exp.column(ROW).isin(*[exp.Literal.number(p) for p in positions])))
        found = dict(self.con.execute(query.sql("duckdb")).fetchall())
        return [found.get(p) for p in positions]


def read_staged(con: duckdb.DuckDBPyConnection, parquet: Path, columns: list[str] | None = None
                ) -> duckdb.DuckDBPyRelation:
    """A staged Parquet file's columns (all by default) with the row position ``__n``."""
    picked = [duckdb.ColumnExpression(c) for c in columns] if columns else [duckdb.StarExpression()]
    return con.read_parquet(str(parquet), file_row_number=True).select(
        *picked, duckdb.ColumnExpression("file_row_number").alias(ROW))


def _col(name: str) -> exp.Column:
    return exp.Column(this=ident(name))


def _literal(value: Any) -> exp.Expression:
    if value is None:
        return exp.Null()
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, (int, float)):
        return exp.Literal.number(value)
    if isinstance(value, dt.datetime):  # a pandas Timestamp is a datetime: bounds of date columns
        return exp.cast(exp.Literal.string(value.date().isoformat()), exp.DataType.build("date"))
    if isinstance(value, dt.date):
        return exp.cast(exp.Literal.string(value.isoformat()), exp.DataType.build("date"))
    return exp.Literal.string(str(value))


def _count(where: exp.Expression | None = None) -> exp.Expression:
    star = exp.Count(this=exp.Star())
    return star if where is None else exp.Filter(this=star, expression=exp.Where(this=where))


def _map_success(result: dict, mostly: float | None) -> bool:
    """GX's rule for column-map expectations: missing values are not considered."""
    total = result["element_count"]
    considered = total - result["missing_count"]
    if total == 0 or considered == 0:
        return True  # vacuously true, as GX
    return (considered - result["unexpected_count"]) / considered >= (1.0 if mostly is None else mostly)


def _not_null_success(result: dict, mostly: float | None) -> bool:
    """GX's rule for not-null: every row is considered; true with no rows."""
    total = result["element_count"]
    return total == 0 or (total - result["unexpected_count"]) / total >= (1.0 if mostly is None else mostly)


def _examples(source: StagedSource, value: exp.Expression, unexpected: exp.Expression) -> tuple[list, list]:
    query = (exp.select(exp.column(ROW), value).from_(table_ref(source.relation)).where(unexpected)
             .order_by(exp.column(ROW)).limit(PARTIAL))
    rows = source.con.execute(query.sql("duckdb")).fetchall()
    return [r[1] for r in rows], [r[0] for r in rows]


def _column_map(source: StagedSource, column: str, unexpected_value: exp.Expression) -> dict:
    """In set / between: nulls are missing, not unexpected."""
    col = _col(column)
    unexpected = exp.and_(exp.Not(this=exp.Is(this=col.copy(), expression=exp.Null())), unexpected_value)
    total, missing, bad = source.one(exp.select(_count(), _count(exp.Is(this=col.copy(), expression=exp.Null())),
                                                _count(unexpected.copy())).from_(table_ref(source.relation)))
    values, positions = _examples(source, col.copy(), unexpected) if bad else ([], [])
    return {"element_count": total, "missing_count": missing, "unexpected_count": bad,
            "partial_unexpected_list": values, "partial_unexpected_index_list": positions}


def _not_null(source: StagedSource, column: str) -> dict:
    col = _col(column)
    is_null = exp.Is(this=col, expression=exp.Null())
    total, nulls = source.one(exp.select(_count(), _count(is_null.copy())).from_(table_ref(source.relation)))
    values, positions = _examples(source, col.copy(), is_null) if nulls else ([], [])
    return {"element_count": total, "unexpected_count": nulls, "partial_unexpected_list": values,
            "partial_unexpected_index_list": positions}


def _duplicated(columns: list[str], considered: exp.Expression | None) -> exp.Select:
    """Every considered row with a ``__dup`` flag: its combination of values occurs more than once."""
    partition = [_col(c) for c in columns]
    dup = exp.GT(this=exp.Window(this=exp.Count(this=exp.Star()), partition_by=partition),
                 expression=exp.Literal.number(1))
    query = exp.select(exp.Star(), exp.alias_(dup, "__dup")).from_("__src")
    return query.where(considered) if considered is not None else query


def _unique(source: StagedSource, columns: list[str]) -> dict:
    """Unique (one column: nulls missing) or compound unique (rows with every column empty left out)."""
    nulls = [exp.Is(this=_col(c), expression=exp.Null()) for c in columns]
    considered = exp.Not(this=exp.Paren(this=exp.and_(*nulls)) if len(nulls) > 1 else nulls[0])
    flagged = _duplicated(columns, considered).with_("__src", exp.select(exp.Star()).from_(
        table_ref(source.relation)))
    con = source.con
    con.execute(exp.Create(this=table_ref("__lsm_unique"), kind="TABLE", expression=flagged,
                           properties=exp.Properties(expressions=[exp.TemporaryProperty()]), replace=True)
                .sql("duckdb"))
    try:
        total = source.one(exp.select(_count()).from_(table_ref(source.relation)))[0]
        kept, bad = source.one(exp.select(_count(), _count(exp.column("__dup"))).from_(table_ref("__lsm_unique")))
        if len(columns) == 1:
            value: exp.Expression = _col(columns[0])
        else:
            value = exp.Struct(expressions=[exp.PropertyEQ(this=ident(c), expression=_col(c)) for c in columns])
        values, positions = [], []
        if bad:
            rows = con.execute(exp.select(exp.column(ROW), value).from_(table_ref("__lsm_unique"))
                               .where(exp.column("__dup")).order_by(exp.column(ROW)).limit(PARTIAL)
                               .sql("duckdb")).fetchall()
            values, positions = [r[1] for r in rows], [r[0] for r in rows]
    finally:
        con.execute(exp.Drop(tables=[table_ref("__lsm_unique")], kind="TABLE", exists=True).sql("duckdb"))
    return {"element_count": total, "missing_count": total - kept, "unexpected_count": bad,
            "partial_unexpected_list": values, "partial_unexpected_index_list": positions}


def _within(value, low, high) -> bool:
    return value is not None and (low is None or value >= low) and (high is None or value <= high)


def _as_date(value):
    return value.date() if isinstance(value, dt.datetime) else value


def _measure(source: StagedSource, expectation_type: str, kwargs: dict) -> dict:
    """The GX-style result of one expectation: counts, examples or the observed value (no verdict)."""
    if expectation_type == "expect_column_values_to_not_be_null":
        return _not_null(source, kwargs["column"])
    if expectation_type == "expect_column_values_to_be_in_set":
        values = [_literal(v) for v in kwargs["value_set"]]
        outside = exp.Not(this=exp.In(this=_col(kwargs["column"]), expressions=values)) if values else exp.true()
        return _column_map(source, kwargs["column"], outside)
    if expectation_type == "expect_column_values_to_be_between":
        col, low, high = _col(kwargs["column"]), kwargs.get("min_value"), kwargs.get("max_value")
        outside = [exp.LT(this=col.copy(), expression=_literal(low))] if low is not None else []
        outside += [exp.GT(this=col.copy(), expression=_literal(high))] if high is not None else []
        return _column_map(source, kwargs["column"], exp.or_(*outside) if outside else exp.false())
    if expectation_type == "expect_column_values_to_be_unique":
        return _unique(source, [kwargs["column"]])
    if expectation_type == "expect_compound_columns_to_be_unique":
        return _unique(source, list(kwargs["column_list"]))
    if expectation_type == "expect_column_max_to_be_between":
        newest = source.one(exp.select(exp.Max(this=_col(kwargs["column"]))).from_(table_ref(source.relation)))[0]
        return {"observed_value": newest}
    if expectation_type == "expect_table_row_count_to_be_between":
        return {"observed_value": source.one(exp.select(_count()).from_(table_ref(source.relation)))[0]}
    raise ValueError(f"no DuckDB evaluation for {expectation_type}")


def _success(expectation_type: str, kwargs: dict, result: dict) -> bool:
    if expectation_type == "expect_column_values_to_not_be_null":
        return _not_null_success(result, kwargs.get("mostly"))
    if expectation_type in ("expect_column_max_to_be_between", "expect_table_row_count_to_be_between"):
        low, high = _as_date(kwargs.get("min_value")), _as_date(kwargs.get("max_value"))
        return _within(result["observed_value"], low, high)
    return _map_success(result, kwargs.get("mostly"))


def evaluate(source: StagedSource, expectation_type: str, kwargs: dict) -> tuple[bool, dict]:
    """(success, GX-style result) of one expectation over the staged rows; the metrics are measured
    once per expectation and columns, whatever the threshold (``mostly``)."""
    key = (expectation_type, repr(sorted((k, v) for k, v in kwargs.items() if k != "mostly")))
    if key not in source.measured:
        source.measured[key] = _measure(source, expectation_type, kwargs)
    result = source.measured[key]
    return _success(expectation_type, kwargs, result), dict(result)

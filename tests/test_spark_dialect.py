"""Our Spark dialect: each translation the plans need, run on real Spark and on DuckDB, same answer.

sqlglot's own DuckDB → Spark translation is silently wrong for these (ordered list aggregates lose
their ORDER BY, Spark's collect_list drops NULLs, string_agg over nothing gives '' not NULL,
division of decimals keeps decimals, functions Spark lacks pass through); engine/dialects/spark.py
fixes each, and engine/plan/portability.py refuses what Spark cannot run.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import duckdb
import pyarrow as pa
import pytest
import sqlglot
from sqlglot import exp

from engine.dialects import render
from engine.dialects.nodes import DateFromDigits, OneEdit, ToJson, format_number
from engine.plan.portability import spark_problems
from engine.plan.steps import ModelPlan, RelationStep

pytestmark = pytest.mark.spark

ROWS = pa.table({
    "g": ["a", "a", "a", "b", "b", "c"],
    "k": [3, 1, None, 2, 2, 5],
    "v": ["x3", "x1", "xn", None, "y2", None],
    "amount": pa.array([Decimal("10.00"), Decimal("20.00"), Decimal("5.00"), Decimal("1.00"), Decimal("3.00"),
                        Decimal("7.00")], pa.decimal128(18, 2)),
})


@pytest.fixture(scope="module")
def engines(spark_session):
    con = duckdb.connect()
    con.register("t", ROWS)
    spark_session.createDataFrame(ROWS).createOrReplaceTempView("t")
    yield con, spark_session
    con.close()


def _both(engines, query: exp.Expression) -> tuple[list, list]:
    con, spark = engines
    on_duckdb = con.sql(render(query, "duckdb")).fetchall()
    on_spark = [tuple(r) for r in spark.sql(render(query, "spark")).collect()]
    return on_duckdb, on_spark


def _grouped(*selects: str) -> exp.Select:
    tree = sqlglot.parse_one(f"SELECT g, {', '.join(selects)} FROM t GROUP BY g ORDER BY g", read="duckdb")
    return tree


def _normal(rows):
    return [tuple(list(v) if isinstance(v, list | tuple) else v for v in r) for r in rows]


@pytest.mark.parametrize("aggregate", [
    "list(v ORDER BY k DESC)",                    # direction kept, NULL keys last, NULL values kept
    "list(v ORDER BY k)",
    "list(DISTINCT k ORDER BY k)",
    "string_agg(v, '、' ORDER BY k)",             # NULLs skipped
    "list(v ORDER BY k) FILTER (WHERE k > 100)",  # nothing left: NULL, not []
    "string_agg(v, ',' ORDER BY v) FILTER (WHERE v IS NULL)",
])
def test_ordered_aggregates_agree(engines, aggregate):
    on_duckdb, on_spark = _both(engines, _grouped(f"{aggregate} AS x"))
    assert _normal(on_spark) == _normal(on_duckdb)


def test_sqlglot_alone_would_lose_the_order(engines):
    """The reason for the fix: sqlglot's Spark output drops ORDER BY inside the aggregate."""
    tree = _grouped("list(v ORDER BY k DESC) AS x")
    assert "ORDER BY k DESC" not in tree.sql("spark").split("FROM")[0]
    assert "ARRAY_SORT" in render(tree, "spark")


def test_division_is_double_on_both(engines):
    query = sqlglot.parse_one("SELECT g, sum(amount) / 3 AS q, 7 / 2 AS i FROM t GROUP BY g ORDER BY g", read="duckdb")
    on_duckdb, on_spark = _both(engines, query)
    assert [(g, round(q, 9), i) for g, q, i in on_spark] == [(g, round(q, 9), i) for g, q, i in on_duckdb]
    assert all(isinstance(q, float) for _, q, _ in on_spark)


@pytest.mark.parametrize("value,decimals,grouping", [
    ("1234567.5", 2, True), ("0.5", 0, False), ("1.5", 0, False), ("0.125", 2, False), ("1234.5678", 2, False),
    ("12", 2, True), ("-0.375", 2, True)])
def test_number_formatting_agrees(engines, value, decimals, grouping):
    query = exp.select(format_number(exp.cast(exp.Literal.number(value), "DOUBLE"), decimals, grouping).as_("f"))
    on_duckdb, on_spark = _both(engines, query)
    assert on_spark == on_duckdb


@pytest.mark.parametrize("a,b,expected", [
    ("510104199001010019", "510104199001010019", False),  # equal: no edit
    ("510104199001010019", "510104199001010018", True),   # one substitution
    ("510104199001010019", "510104199001010091", True),   # neighbours swapped
    ("510104199001010019", "510104199001010190", False),  # swapped two apart
    ("510104199001010019", "51010419900101001", False),   # another length
    ("510104199001010019", "510104199001010088", False),  # two substitutions
])
def test_one_edit_agrees(engines, a, b, expected):
    query = exp.select(OneEdit(this=exp.Literal.string(a), expression=exp.Literal.string(b)).as_("e"))
    on_duckdb, on_spark = _both(engines, query)
    assert on_duckdb == on_spark == [(expected,)]


@pytest.mark.parametrize("digits,expected", [("19900101", dt.date(1990, 1, 1)), ("19900230", None), ("1990AB01", None)])
def test_dates_from_digits_agree(engines, digits, expected):
    on_duckdb, on_spark = _both(engines, exp.select(DateFromDigits(this=exp.Literal.string(digits)).as_("d")))
    assert on_duckdb == on_spark == [(expected,)]


def test_json_keeps_null_fields(engines):
    struct = exp.Struct(expressions=[exp.PropertyEQ(this=exp.to_identifier("a"), expression=exp.Literal.number(1)),
                                     exp.PropertyEQ(this=exp.to_identifier("b"), expression=exp.Null())])
    on_duckdb, on_spark = _both(engines, exp.select(ToJson(this=struct).as_("j")))
    assert json.loads(on_spark[0][0]) == json.loads(on_duckdb[0][0]) == {"a": 1, "b": None}


def test_a_function_only_duckdb_has_is_refused_for_spark():
    query = sqlglot.parse_one("SELECT hamming(v, 'x1') AS h, levenshtein(v, 'x1') AS l FROM t", read="duckdb")
    plan = ModelPlan("m", "1", "m", "", "", "", "person", [], steps=[RelationStep(name="m_m__r", query=query)])
    problems = spark_problems(plan)
    assert [p.message.split(":")[1].strip() for p in problems] == ["function hamming() does not run on Spark (no Spark "
                                                                   "function of that name); this model runs with "
                                                                   "--engine duckdb only"]

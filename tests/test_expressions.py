"""The expression sandbox: what analysts may write, what is refused, and what domain functions mean."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from engine.compile.expressions import ExpressionError, Level, Scope, check
from engine.dialects import render

SCOPE = Scope({"p": {"pay_month", "amount", "id_number"}, "c": {"start", "end", "id_number"}})


@pytest.mark.parametrize("text,fragment", [
    ("read_csv('/etc/passwd')", "table functions"),
    ("read_parquet('x.parquet')", "table functions"),
    ("glob('*')", "glob() is not allowed"),
    ("getenv('HOME')", "getenv() is not allowed"),
    ("query('select 1')", "query() is not allowed"),
    ("(SELECT 1)", "not allowed"),
    ("p.amount IN (SELECT amount FROM secret)", "subqueries are not allowed"),
    ("EXISTS (SELECT 1 FROM t)", "subqueries are not allowed"),
    ("1; DROP TABLE x", "one expression expected"),
    ("ATTACH 'other.db'", "statements are not allowed"),
    ("INSTALL httpfs", "statements are not allowed"),
    ("LOAD httpfs", "not allowed"),
    ("COPY t TO '/tmp/x'", "statements are not allowed"),
    ("PRAGMA database_list", "statements are not allowed"),
    ("DROP TABLE ds_dibao_payments", "not allowed"),
    ("CREATE TABLE x AS SELECT 1", "statements are not allowed"),
    ("list_transform([1], lambda x: x)", "not allowed"),
    ("percent_rank() OVER (ORDER BY p.amount)", "window functions are not allowed"),
    ("sum(p.amount)", "aggregate"),
    ("p.nope > 1", "has no column 'nope'"),
    ("q.amount > 1", "unknown name 'q'"),
    ("id_number = 'x'", "ambiguous"),
    ("p.amount > ?", "parameters are not allowed"),
])
def test_hostile_or_wrong_expressions_are_refused(text, fragment):
    with pytest.raises(ExpressionError) as caught:
        check(text, SCOPE, Level.ROW)
    assert fragment in str(caught.value)


def test_unqualified_unique_columns_are_qualified_and_comments_dropped():
    tree = check("amount > 0 -- DROP TABLE x", SCOPE, Level.ROW)
    assert tree.sql("duckdb") == "p.amount > 0"


def test_group_level_requires_aggregates():
    assert check("sum(p.amount)", SCOPE, Level.GROUP).sql("duckdb") == "SUM(p.amount)"
    with pytest.raises(ExpressionError, match="must be inside an aggregate"):
        check("p.amount", SCOPE, Level.GROUP)


def _eval(text: str, **values) -> object:
    """Evaluate a domain expression in DuckDB with literal values bound to p./c. columns."""
    tree = check(text, SCOPE, Level.ROW, as_of=dt.date(2024, 6, 30))
    columns = ", ".join(f"{v!r}::DATE AS {k.split('_', 1)[1]}" if isinstance(v, str) else f"NULL::DATE AS {k.split('_', 1)[1]}"
                        for k, v in values.items() if k.startswith("c_"))
    p_cols = ", ".join(f"{v!r}::DATE AS {k.split('_', 1)[1]}" for k, v in values.items() if k.startswith("p_"))
    sql = f"SELECT {render(tree, 'duckdb')} FROM (SELECT {p_cols or '1 AS x'}) AS p, (SELECT {columns or '1 AS x'}) AS c"
    return duckdb.sql(sql).fetchall()[0][0]


@pytest.mark.parametrize("month,expected", [("2023-03-01", False), ("2023-04-01", True), ("2023-07-01", True),
                                            ("2023-08-01", False), ("2023-02-01", False)])
def test_month_strictly_inside_excludes_first_and_last_month(month, expected):
    assert _eval("month_strictly_inside(p.pay_month, c.start, c.\"end\")", p_pay_month=month, c_start="2023-03-15",
                 c_end="2023-08-10") is expected


def test_month_strictly_inside_is_open_ended_without_end():
    assert _eval("month_strictly_inside(p.pay_month, c.start, c.\"end\")", p_pay_month="2030-01-01",
                 c_start="2023-03-15", c_end=None) is True


def test_after_month_allows_the_death_month():
    assert _eval("after_month(p.pay_month, c.start)", p_pay_month="2023-03-01", c_start="2023-03-31") is False
    assert _eval("after_month(p.pay_month, c.start)", p_pay_month="2023-04-01", c_start="2023-03-31") is True


def test_add_years_on_29_february_and_within_days_inclusive():
    assert _eval("add_years(c.start, 3)", c_start="2024-02-29") == dt.date(2027, 2, 28)
    assert _eval("within_days(p.pay_month, c.start, 365)", p_pay_month="2023-01-01", c_start="2024-01-01") is True
    assert _eval("within_days(p.pay_month, c.start, 364)", p_pay_month="2023-01-01", c_start="2024-01-01") is False


def test_as_of_becomes_the_run_date():
    assert _eval("as_of()") == dt.date(2024, 6, 30)


@pytest.mark.parametrize("a,b,expected", [
    ("510104199001010019", "510104199001010018", True),   # one substitution
    ("510104199001010019", "510104199001100019", True),   # adjacent swap (10 -> 01)
    ("510104199001010019", "510104199001010019", False),  # equal is not an edit
    ("510104199001010019", "510104199001011118", False),  # two substitutions
    ("510104199001010019", "51010419900101001", False),   # different length
])
def test_one_edit(a, b, expected):
    tree = check("one_edit(p.id_number, c.id_number)", SCOPE, Level.ROW)
    sql = f"SELECT {render(tree, 'duckdb')} FROM (SELECT '{a}' AS id_number) p, (SELECT '{b}' AS id_number) c"
    assert duckdb.sql(sql).fetchall()[0][0] is expected


def test_order_dependent_aggregates_are_made_deterministic():
    import duckdb

    from engine.compile.expressions import expand, parse

    def sql(text: str) -> str:
        return expand(parse(text)).sql("duckdb")

    assert sql("any_value(x)") == "MIN(x)"
    assert sql("string_agg(DISTINCT a, '、')") == "LISTAGG(DISTINCT a, '、' ORDER BY a)"
    assert sql("list(a) FILTER (WHERE b)") == "ARRAY_AGG(a ORDER BY a) FILTER(WHERE b)"
    assert sql("list(a ORDER BY c DESC)") == "ARRAY_AGG(a ORDER BY c DESC, a)"   # the analyst's order, ties broken
    assert sql("list(DISTINCT a ORDER BY a)") == "ARRAY_AGG(DISTINCT a ORDER BY a)"
    rows = "(VALUES ('x', 1), ('z', 2), ('y', 2), ('w', NULL)) t(a, b)"
    # ties on the key: the value decides, whatever order the rows arrive in; rows without a key are ignored
    for order in ("a", "a DESC"):
        got = duckdb.sql(f"SELECT {sql('arg_max(a, b)')}, {sql('arg_min(a, b)')} "
                         f"FROM (SELECT * FROM {rows} ORDER BY {order})").fetchall()
        assert got == [("z", "x")]

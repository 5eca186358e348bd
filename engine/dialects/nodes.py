"""The engine's own SQL nodes: operations whose SQL differs between engines.

The compiler builds these nodes; each dialect (:mod:`engine.dialects.duckdb`,
:mod:`engine.dialects.spark`) says how to write them, so a plan holds no engine's spelling.

=================  ==============================================  =================================
node               DuckDB                                          Spark
=================  ==============================================  =================================
FormatNumber       format('{:,.2f}', x) · format('{:.0f}', x)      format_number(x, 2) · format_string
ToJson             to_json(x)                                      to_json(x, {ignoreNullFields: false})
OneEdit            equal length, hamming ≤ 2, damerau_levenshtein = 1  equal length, the differing
                                                                   positions: one, or two swapped
DateFromDigits     try_strptime(x, '%Y%m%d')                       try_to_timestamp(x, 'yyyyMMdd')
=================  ==============================================  =================================
"""

from __future__ import annotations

from sqlglot import exp


class FormatNumber(exp.Expression, exp.Func):
    """A number as text with ``decimals`` places, with thousands separators when ``grouping``."""

    arg_types = {"this": True, "decimals": True, "grouping": False}


class ToJson(exp.Expression, exp.Func):
    """A value as JSON text, NULL fields kept."""

    arg_types = {"this": True}


class OneEdit(exp.Expression, exp.Func):
    """Two texts of the same length that differ by one substitution or one swap of neighbours."""

    arg_types = {"this": True, "expression": True}


class DateFromDigits(exp.Expression, exp.Func):
    """``yyyymmdd`` digits as a date, NULL when they are not one."""

    arg_types = {"this": True}


def format_number(value: exp.Expression, decimals: int, grouping: bool = False) -> FormatNumber:
    return FormatNumber(this=value, decimals=exp.Literal.number(decimals), grouping=exp.Boolean(this=grouping))

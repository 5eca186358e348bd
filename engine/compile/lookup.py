"""Inline lookup tables of a model, turned into typed Arrow tables in bulk.

A model's ``tables:`` (e.g. M07's prosecution thresholds) are data, not SQL: the rows become one
Arrow table per lookup, column by column (pyarrow converts whole lists at once), which the backend
loads like any input. Nothing of a row is ever written into SQL text, and a 100,000-row table
costs a fraction of a second. A value that does not fit its column's type is reported with the
row and column it sits in.

Example::

    data, problems = lookup_table({"violation": "text", "threshold": "amount"}, [["非法经营", 50000]])
    data.column("threshold").type          # decimal128(18, 2)
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

import pyarrow as pa

ARROW_TYPES = {"text": pa.string(), "int": pa.int64(), "amount": pa.decimal128(18, 2), "date": pa.date32(),
               "bool": pa.bool_(), "float": pa.float64()}
TYPE_ZH = {"text": "文本", "int": "整数", "amount": "金额", "date": "日期", "bool": "是/否", "float": "数值"}


def _as_text(value) -> str | None:
    return None if value is None else str(value)


def _as_int(value) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, str)) or (isinstance(value, str) and not
                                                                          value.strip().lstrip("-").isdigit()):
        raise ValueError
    return int(value)


def _as_amount(value) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError
    try:
        amount = Decimal(str(value).replace(",", ""))
    except InvalidOperation:
        raise ValueError from None
    if not amount.is_finite() or abs(amount) >= Decimal(10) ** 16:
        raise ValueError
    return amount.quantize(Decimal("0.01"))


def _as_date(value) -> dt.date:
    if isinstance(value, dt.date):
        return value
    if not isinstance(value, str):
        raise ValueError
    return dt.date.fromisoformat(value.strip())


def _as_bool(value) -> bool:
    if isinstance(value, bool):
        return value
    raise ValueError


def _as_float(value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError
    return float(value)


CONVERTERS = {"text": _as_text, "int": _as_int, "amount": _as_amount, "date": _as_date, "bool": _as_bool,
              "float": _as_float}


def _bulk(kind: str, values: tuple) -> pa.Array:
    """Convert one column at once with pyarrow; raises when any value does not fit."""
    if kind == "text":
        return pa.array([None if v is None else str(v) for v in values], pa.string())
    if kind in ("amount", "date"):
        if any(isinstance(v, bool) for v in values):
            raise ValueError
        text = pa.array([None if v is None else str(v).replace(",", "").strip() for v in values], pa.string())
        return text.cast(ARROW_TYPES[kind])
    if kind in ("int", "bool") and any(v is not None and isinstance(v, bool) != (kind == "bool") for v in values):
        raise ValueError
    return pa.array(values, ARROW_TYPES[kind])


def lookup_table(columns: dict[str, str], rows: list[list]) -> tuple[pa.Table | None, list[tuple[int, int, str]]]:
    """The rows as a typed Arrow table; or None and the problems as (row index, column index, message)."""
    problems: list[tuple[int, int, str]] = []
    arrays = []
    values_by_column = list(zip(*rows, strict=True)) if rows else [() for _ in columns]
    for j, ((name, kind), values) in enumerate(zip(columns.items(), values_by_column, strict=True)):
        try:
            arrays.append(_bulk(kind, values))
            continue
        except (ValueError, TypeError, OverflowError, pa.ArrowException):
            pass
        convert = CONVERTERS[kind]  # the bulk conversion refused: value by value, to say which
        converted, before = [], len(problems)
        for i, value in enumerate(values):
            try:
                converted.append(None if value is None else convert(value))
            except ValueError:
                problems.append((i, j, f"'{str(value)[:40]}' is not a value of type {kind} ({TYPE_ZH[kind]}) for "
                                       f"column {name}"))
                if len(problems) >= 20:
                    return None, problems
        if len(problems) == before:
            arrays.append(pa.array(converted, ARROW_TYPES[kind]))
    if problems:
        return None, problems
    return pa.table(dict(zip(columns, arrays, strict=True))), []

"""Dates and months as agencies write them, parsed column-wise.

Accepted date forms: ``2023-01-05``, ``2023/1/5``, ``20230105``,
``2023年1月5日``, ``2023.01.05``, the same with a time part (``2023-01-05
00:00:00``, as XLSX date cells arrive), and Excel serial numbers (``44927``,
``44927.0``: the day count from 1899-12-30, Excel's convention). Impossible
dates (``2023-13-45``, ``2023-02-29``) give null, which ingest turns into a
quarantine reason.

Months: ``2023-01``, ``202301``, ``2023年1月``, ``2023/1``, ``2023.1`` and any
date form above (its month). The normal form is the first day of the month.

Two steps, each over a materialised column: :func:`unify` rewrites the
separators to ``-``; :func:`date` / :func:`month` parse the unified text.

Example::

    u = unify(clean(pl.col("admitted_on")))     # '2023年1月5日' -> '2023-1-5'
    date(pl.col("__u"))                          # 2023-01-05
"""

from __future__ import annotations

import datetime as dt

import polars as pl

_EXCEL_EPOCH = dt.date(1899, 12, 30)


def unify(cleaned: pl.Expr) -> pl.Expr:
    """Separators 年/月/./ to '-', trailing 日 and any time part removed."""
    out = cleaned.str.replace(r"[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?$", "")
    out = out.str.replace_all(r"[年月/.]", "-").str.replace(r"日$", "")
    return out.str.strip_chars_end("-")


def _excel_serial(unified: pl.Expr) -> pl.Expr:
    days = pl.when(unified.str.contains(r"^\d{5}(?:-0+)?$")).then(unified.str.slice(0, 5)).cast(pl.Int64)
    return (pl.lit(_EXCEL_EPOCH) + pl.duration(days=days)).cast(pl.Date)


def date(unified: pl.Expr) -> pl.Expr:
    separated = pl.when(unified.str.contains(r"^\d{4}-\d{1,2}-\d{1,2}$")).then(unified)
    compact = pl.when(unified.str.contains(r"^\d{8}$")).then(unified)
    return pl.coalesce(separated.str.to_date("%Y-%m-%d", strict=False),
                       compact.str.to_date("%Y%m%d", strict=False),
                       _excel_serial(unified))


def month(unified: pl.Expr) -> pl.Expr:
    separated = pl.when(unified.str.contains(r"^\d{4}-\d{1,2}$")).then(unified + "-1")
    compact = pl.when(unified.str.contains(r"^\d{6}$")).then(unified + "01")
    return pl.coalesce(separated.str.to_date("%Y-%m-%d", strict=False),
                       compact.str.to_date("%Y%m%d", strict=False),
                       date(unified).dt.month_start())

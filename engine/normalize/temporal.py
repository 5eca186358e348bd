"""Dates and months as agencies write them, parsed column-wise.

Accepted date forms: ``2023-01-05``, ``2023/1/5``, ``20230105``,
``2023年1月5日``, ``2023.01.05``, the same with a time part (``2023-01-05
00:00:00``, as XLSX date cells arrive), and Excel serial numbers (``44927``,
``44927.0``; day 1 = 1900-01-01 with Excel's leap-year bug, i.e. serial + 1899-12-30).
Impossible dates (``2023-13-45``) give null, which the ingest turns into a
quarantine reason.

Months: ``2023-01``, ``202301``, ``2023年1月``, ``2023/1``, ``2023.1`` and any
full date form, Excel serials included (its month). The normal form is the first day of the month.

Example::

    df.select(date(pl.col("admitted_on")), month(pl.col("pay_month")))
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from engine.normalize.text import present_or_null

_SEP = r"[-/.年]"
_DATE_YMD = rf"^(\d{{4}}){_SEP}(\d{{1,2}})[-/.月](\d{{1,2}})日?(?:[ T]\d{{1,2}}:\d{{2}}(?::\d{{2}}(?:\.\d+)?)?)?$"
_DATE_COMPACT = r"^(\d{4})(\d{2})(\d{2})$"
_EXCEL_SERIAL = r"^(\d{5})(?:\.0+)?$"
_MONTH = rf"^(\d{{4}}){_SEP}(\d{{1,2}})月?$"
_MONTH_COMPACT = r"^(\d{4})(\d{2})$"
_EXCEL_EPOCH = dt.date(1899, 12, 30)


def _ymd(y: pl.Expr, m: pl.Expr, d: pl.Expr) -> pl.Expr:
    text = pl.concat_str([y, pl.lit("-"), m.str.zfill(2), pl.lit("-"), d.str.zfill(2)])
    return text.str.to_date("%Y-%m-%d", strict=False)


def date(expr: pl.Expr) -> pl.Expr:
    """Parse any accepted date form; null when missing or impossible."""
    s = present_or_null(expr)
    ymd = _ymd(s.str.extract(_DATE_YMD, 1), s.str.extract(_DATE_YMD, 2), s.str.extract(_DATE_YMD, 3))
    compact = _ymd(s.str.extract(_DATE_COMPACT, 1), s.str.extract(_DATE_COMPACT, 2),
                   s.str.extract(_DATE_COMPACT, 3))
    serial_days = s.str.extract(_EXCEL_SERIAL, 1).cast(pl.Int64, strict=False)
    serial = pl.lit(_EXCEL_EPOCH) + pl.duration(days=serial_days)
    return pl.coalesce(ymd, compact, serial.cast(pl.Date))


def month(expr: pl.Expr) -> pl.Expr:
    """Parse a month (or a full date) to the first day of its month."""
    s = present_or_null(expr)
    separated = _ymd(s.str.extract(_MONTH, 1), s.str.extract(_MONTH, 2), pl.lit("1"))
    compact = _ymd(s.str.extract(_MONTH_COMPACT, 1), s.str.extract(_MONTH_COMPACT, 2), pl.lit("1"))
    return pl.coalesce(separated, compact, date(expr).dt.month_start())

"""Amounts in yuan and integers, parsed column-wise.

Amounts: ``1234.5``, ``1,234.50``, ``1234.5元``, ``¥1,234.50``, ``0.5万元``
(= 5000 yuan), ``RMB 12``, negative values. The normal form is a decimal with
two places (to the fen; values with more places are rounded half to even).

Example::

    df.select(amount(clean(pl.col("amount"))))     # '0.5万元' -> Decimal('5000.00')
"""

from __future__ import annotations

import polars as pl

from engine.ingest.normalize.text import remove_whitespace

AMOUNT_TYPE = pl.Decimal(18, 2)
_NUMBER = r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)$"


def amount_text(cleaned: pl.Expr) -> pl.Expr:
    """Currency signs, thousands separators and spaces removed (``万`` kept)."""
    return remove_whitespace(cleaned).str.replace_all(r"^(?:¥|RMB|人民币)|[,，]", "")


def amount(text: pl.Expr) -> pl.Expr:
    digits = text.str.replace(r"(?:万元|万|元)$", "")
    value = pl.when(digits.str.contains(_NUMBER)).then(digits).cast(pl.Decimal(30, 6), strict=False)
    scaled = pl.when(text.str.contains(r"万元?$")).then(value * 10000).otherwise(value)
    return scaled.round(2).cast(AMOUNT_TYPE)


def integer(cleaned: pl.Expr) -> pl.Expr:
    s = remove_whitespace(cleaned).str.replace_all(r"[,，]", "").str.replace(r"[人名个]$", "")
    return pl.when(s.str.contains(r"^[+-]?\d+$")).then(s).cast(pl.Int64, strict=False)

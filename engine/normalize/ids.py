"""Resident ID numbers (GB 11643) and unified social credit codes (GB 32100).

Vectorised check-character computation in Polars: each position is sliced as
a whole column, weighted and summed; no Python loop over rows. python-stdnum
is the test oracle (tests/test_normalize_ids.py).

Normal forms:

* ``id_cn``: 18 characters, last may be ``X``. A 15-digit number is converted
  (insert ``19`` after the area code, ``18`` when the sequence is 996–999, then
  compute the check character). A value that fails its check character stays
  as read (cleaned of spaces/hyphens, upper case) and is flagged invalid.
* ``credit_code``: 18 upper-case characters; failing the check is a flag only.

Example::

    df.select(id_cn(pl.col("id_number")).alias("id"), id_cn_valid(pl.col("id_number")))
"""

from __future__ import annotations

import polars as pl

from engine.normalize.text import present_or_null

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK_CHARS = "10X98765432"
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)

_ID_SEPARATORS = r"[\s\-_‐‑‒–—―−]+"


def compact_code(expr: pl.Expr) -> pl.Expr:
    """NFKC, trimmed, separators removed, upper case (null when missing)."""
    return present_or_null(expr).str.replace_all(_ID_SEPARATORS, "").str.to_uppercase()


def id_check_char(body17: pl.Expr) -> pl.Expr:
    """The GB 11643 check character of a 17-digit body (null if not digits)."""
    total = pl.sum_horizontal(
        [body17.str.slice(i, 1).cast(pl.Int32, strict=False) * w for i, w in enumerate(ID_WEIGHTS)]
    )
    all_digits = body17.str.contains(r"^\d{17}$")
    return pl.when(all_digits).then(pl.lit(ID_CHECK_CHARS).str.slice(total % 11, 1)).otherwise(None)


def id_cn(expr: pl.Expr) -> pl.Expr:
    """Normal 18-character form (15-digit numbers converted); invalid values as cleaned."""
    s = compact_code(expr)
    seq = s.str.slice(12, 3)
    century = pl.when(seq.is_in(["996", "997", "998", "999"])).then(pl.lit("18")).otherwise(pl.lit("19"))
    body = pl.concat_str([s.str.slice(0, 6), century, s.str.slice(6, 9)])
    converted = pl.concat_str([body, id_check_char(body)])
    return pl.when(s.str.contains(r"^\d{15}$")).then(converted).otherwise(s)


def id_cn_valid(expr: pl.Expr) -> pl.Expr:
    """True when the normal form is 17 digits plus the right check character."""
    s = id_cn(expr)
    return (s.str.contains(r"^\d{17}[\dX]$") & (s.str.slice(17, 1) == id_check_char(s.str.slice(0, 17)))).fill_null(
        False
    )


def uscc_check_char(body17: pl.Expr) -> pl.Expr:
    """The GB 32100 check character of a 17-character body (null if out of alphabet)."""
    values = [
        body17.str.slice(i, 1).replace_strict(list(USCC_ALPHABET), list(range(31)), default=None,
                                              return_dtype=pl.Int32) * w
        for i, w in enumerate(USCC_WEIGHTS)
    ]
    total = pl.sum_horizontal(values)
    ok = body17.str.contains(rf"^[{USCC_ALPHABET}]{{17}}$")
    return pl.when(ok).then(pl.lit(USCC_ALPHABET).str.slice((31 - total % 31) % 31, 1)).otherwise(None)


def credit_code(expr: pl.Expr) -> pl.Expr:
    return compact_code(expr)


def credit_code_valid(expr: pl.Expr) -> pl.Expr:
    s = credit_code(expr)
    shape = s.str.contains(rf"^[{USCC_ALPHABET}]{{2}}\d{{6}}[{USCC_ALPHABET}]{{10}}$")
    return (shape & (s.str.slice(17, 1) == uscc_check_char(s.str.slice(0, 17)))).fill_null(False)

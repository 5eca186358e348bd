"""Text normalisers: presence of a cell, half-width forms, person names.

Pure Polars expressions over whole columns (no Python loop over rows).
Traditional → simplified conversion uses OpenCC's character table, read from
the installed ``opencc`` package (opencc-python-reimplemented), applied with
Polars' Aho–Corasick ``replace_many``.

Example::

    df.select(name_zh(pl.col("person_name")))      # '張 偉' -> '张伟'
"""

from __future__ import annotations

import functools
from importlib import resources

import polars as pl

# Cells that mean "missing" (compared after NFKC and trimming). `无` is a value,
# not a marker, in an enum whose set contains it (handled by the caller).
MISSING_MARKERS = ("", "NULL", "null", "Null", "无", "-", "—", "--", "N/A", "n/a")

_WHITESPACE = r"[\s\u3000\u00a0\u200b\ufeff]+"
# Every middle-dot form seen in minority names, unified to U+00B7.
_NAME_DOTS = r"[•．.・‧∙⋅•·]"


def nfkc(expr: pl.Expr) -> pl.Expr:
    """Unicode NFKC: full-width digits/letters/brackets become half-width."""
    return expr.str.normalize("NFKC")


def cleaned(expr: pl.Expr) -> pl.Expr:
    """NFKC and trimmed — the form used to decide presence and parse values."""
    return nfkc(expr).str.strip_chars()


def is_present(expr: pl.Expr, keep_values: tuple[str, ...] = ()) -> pl.Expr:
    """True when the cell holds a value (not empty and not a missing marker)."""
    markers = [m for m in MISSING_MARKERS if m not in keep_values]
    c = cleaned(expr)
    return c.is_not_null() & ~c.is_in(markers)


def present_or_null(expr: pl.Expr, keep_values: tuple[str, ...] = ()) -> pl.Expr:
    """The cleaned cell, or null when it is missing."""
    return pl.when(is_present(expr, keep_values)).then(cleaned(expr)).otherwise(None)


def remove_whitespace(expr: pl.Expr) -> pl.Expr:
    return expr.str.replace_all(_WHITESPACE, "")


@functools.cache
def traditional_to_simplified_table() -> tuple[list[str], list[str]]:
    """OpenCC's single-character traditional → simplified table (first candidate)."""
    text = resources.files("opencc").joinpath("dictionary/TSCharacters.txt").read_text(encoding="utf-8")
    sources, targets = [], []
    for line in text.splitlines():
        if not line.strip():
            continue
        trad, simp = line.split("\t", 1)
        simp = simp.split(" ")[0].strip()
        if len(trad) == 1 and len(simp) == 1 and trad != simp:
            sources.append(trad)
            targets.append(simp)
    return sources, targets


def to_simplified(expr: pl.Expr) -> pl.Expr:
    sources, targets = traditional_to_simplified_table()
    return expr.str.replace_many(sources, targets)


def name_zh(expr: pl.Expr) -> pl.Expr:
    """Person name: half-width, no spaces, minority dot unified to '·', simplified."""
    out = remove_whitespace(present_or_null(expr))
    out = out.str.replace_all(_NAME_DOTS, "·")
    return to_simplified(out)


def text(expr: pl.Expr) -> pl.Expr:
    """Free text: NFKC and trimmed."""
    return present_or_null(expr)


def code_text(expr: pl.Expr) -> pl.Expr:
    """Identifiers written by hand (licence, permit numbers): NFKC, no spaces, upper case."""
    return remove_whitespace(present_or_null(expr)).str.to_uppercase()

"""Batch fuzzy features of candidate pairs: rapidfuzz over whole columns, pinyin with Polars.

Pure: an Arrow table of pairs in, the same table with feature columns out.
Scores come from ``rapidfuzz.process.cpdist`` over the two aligned columns
(one call per feature, all cores), pinyin keys from a character → syllable
table applied with Polars' ``replace_many`` — never a Python loop over pairs.

Example::

    out = compute(pairs, [FeatureRequest("person_name", "ratio", "person_name__l", "person_name__r")])
    out.column("person_name_ratio")
"""

from __future__ import annotations

import functools

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
from rapidfuzz import fuzz, process

from engine.plan.steps import FeatureRequest


@functools.cache
def pinyin_table() -> tuple[list[str], list[str]]:
    """Every Chinese character pypinyin knows → its first reading without tone, followed by a space."""
    from pypinyin import Style, lazy_pinyin
    from pypinyin.pinyin_dict import pinyin_dict

    chars = [chr(code) for code in pinyin_dict if code > 0x2E7F]
    readings = lazy_pinyin("".join(chars), style=Style.NORMAL, errors="ignore")
    if len(readings) != len(chars):  # pypinyin merges nothing for single characters; be safe anyway
        readings = [lazy_pinyin(c, style=Style.NORMAL)[0] for c in chars]
    return chars, [r + " " for r in readings]


def pinyin(column: pl.Expr) -> pl.Expr:
    """'张伟' -> 'zhang wei' (homophones such as 章伟 give the same key)."""
    chars, readings = pinyin_table()
    return column.str.replace_many(chars, readings).str.strip_chars()


def _spaced(values: pa.Array) -> pa.Array:
    """Characters separated by spaces, so token-set scores compare the characters of Chinese names."""
    series = pl.from_arrow(values)
    assert isinstance(series, pl.Series)
    return series.str.split("").list.join(" ").to_arrow()


def _cpdist(left: pa.Array, right: pa.Array, scorer) -> np.ndarray:
    """Scores for aligned columns in one rapidfuzz batch call; NaN where a value is missing."""
    mask = pc.and_(pc.is_valid(left), pc.is_valid(right))
    scores = np.full(len(left), np.nan)
    keep = mask.to_numpy(zero_copy_only=False)
    if keep.any():
        scores[keep] = process.cpdist(pc.filter(left, mask).to_pylist(), pc.filter(right, mask).to_pylist(),
                                      scorer=scorer, workers=-1)
    return scores


def compute(pairs: pa.Table, requests: list[FeatureRequest]) -> pa.Table:
    """Add every requested feature column to the pairs table."""
    for req in requests:
        if req.kind == "pinyin_equal":
            frame = pl.from_arrow(pairs.select([req.left, req.right]))
            assert isinstance(frame, pl.DataFrame)
            equal = frame.select((pinyin(pl.col(req.left)) == pinyin(pl.col(req.right))).alias("eq"))["eq"]
            pairs = pairs.append_column(req.column, equal.to_arrow())
            continue
        left = pairs.column(req.left).combine_chunks()
        right = pairs.column(req.right).combine_chunks()
        if req.kind == "ratio":
            scores = _cpdist(left, right, fuzz.ratio)
        elif req.kind == "token_set":
            scores = _cpdist(_spaced(left), _spaced(right), fuzz.token_set_ratio)
        else:  # pragma: no cover - requests come from the comparators table
            raise ValueError(f"unknown feature kind {req.kind}")
        pairs = pairs.append_column(req.column, pa.array(scores, pa.float64(), from_pandas=True))
    return pairs

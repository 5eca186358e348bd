"""Normalise a whole frame of raw cells for one dataset, and say which rows are unreadable.

Input: a Polars frame whose columns are the dataset's canonical column names
holding raw text, plus ``_row`` and ``_extra`` (JSON of unmapped columns).
Output: the typed staged columns, ``_row``, ``_extra``, ``_reason`` (null for a
readable row) and ``_h1``/``_h2`` (two independent 64-bit hashes of the raw
cells, used together to find exact duplicates). Pure and vectorised.

Example::

    out = normalize_frame(raw_df, catalogue.dataset("prison_roster"), rules)
    bad = out.filter(pl.col("_reason").is_not_null())
"""

from __future__ import annotations

import polars as pl

from engine.ingest.normalize.columns import column_plan, put_reason
from engine.ingest.normalize.orgs import OrgKeyRules
from engine.ingest.normalize.staged import StagedFrame
from engine.spec.catalog import DatasetSpec

HASH_SEEDS = (0x5EED1, 0xC0FFEE)


def raw_hashes(columns: list[str]) -> list[pl.Expr]:
    """Two seeded hashes of the raw cells (all mapped columns and the extras)."""
    cells = pl.struct([pl.col(c) for c in columns])
    return [cells.hash(seed=HASH_SEEDS[0]).alias("_h1"), cells.hash(seed=HASH_SEEDS[1]).alias("_h2")]


def normalize_frame(raw: pl.DataFrame, dataset: DatasetSpec, rules: OrgKeyRules) -> pl.DataFrame:
    hashed = raw.with_columns(raw_hashes([*dataset.column_names, "_extra"]))
    frame = StagedFrame([*dataset.column_names, "_row", "_extra", "_h1", "_h2"])
    plans = [column_plan(frame, c, rules) for c in dataset.columns]
    reasons = [put_reason(frame, p) for p in plans]
    reason = pl.concat_str([pl.col(r) for r in reasons], separator="; ", ignore_nulls=True)
    frame.put("_reason", pl.when(reason != "").then(reason))
    out = frame.run(hashed)
    outputs = [name for p in plans for name in p.outputs]
    return out.select(*outputs, "_row", "_extra", "_h1", "_h2", "_reason")

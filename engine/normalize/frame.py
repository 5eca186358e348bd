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

from engine.catalog import DatasetSpec
from engine.normalize.columns import column_plan, conditional_reason
from engine.normalize.orgs import OrgKeyRules

HASH_SEEDS = (0x5EED1, 0xC0FFEE)


def raw_hashes(columns: list[str]) -> list[pl.Expr]:
    """Two seeded hashes of the raw cells (all mapped columns and the extras)."""
    cells = pl.struct([pl.col(c) for c in columns])
    return [cells.hash(seed=HASH_SEEDS[0]).alias("_h1"), cells.hash(seed=HASH_SEEDS[1]).alias("_h2")]


def normalize_frame(raw: pl.DataFrame, dataset: DatasetSpec, rules: OrgKeyRules) -> pl.DataFrame:
    plans = [column_plan(c, rules) for c in dataset.columns]
    conditional = [p for p in plans if p.column.required_when]
    first = raw.select(
        *[out for p in plans for out in p.outputs],
        *[p.reason.alias(f"__reason_{i}") for i, p in enumerate(plans)],
        *[p.present.alias(f"__present_{p.column.name}") for p in conditional],
        pl.col("_row"),
        pl.col("_extra"),
        *raw_hashes([*dataset.column_names, "_extra"]),
    )
    reasons = [pl.col(f"__reason_{i}") for i in range(len(plans))]
    reasons += [conditional_reason(p.column, pl.col(f"__present_{p.column.name}")) for p in conditional]
    reason = pl.concat_str(reasons, separator="; ", ignore_nulls=True)
    out = first.with_columns(pl.when(reason != "").then(reason).otherwise(None).alias("_reason"))
    return out.drop([c for c in out.columns if c.startswith("__")])

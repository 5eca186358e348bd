"""Evaluate many column expressions in dependency order, each intermediate materialised once.

Eager Polars re-evaluates a sub-expression every time it is referenced: an ID
check character built from 17 slices of a cleaned column would clean it 17
times. A :class:`StagedFrame` avoids that: every ``put`` names an intermediate
column and returns ``pl.col(name)``; the stage of an expression is one more
than the deepest column it reads, and ``run`` evaluates stage after stage with
``with_columns`` (all expressions of a stage in parallel).

Example::

    b = StagedFrame(["id_number"])
    clean = b.put("__c", pl.col("id_number").str.strip_chars())
    b.put("id_len", clean.str.len_chars())
    b.run(df)    # adds __c (stage 0) then id_len (stage 1)
"""

from __future__ import annotations

from collections import defaultdict

import polars as pl


class StagedFrame:
    def __init__(self, source_columns: list[str] | tuple[str, ...]):
        self.level: dict[str, int] = {c: -1 for c in source_columns}
        self.stages: dict[int, list[pl.Expr]] = defaultdict(list)
        self.order: list[str] = []

    def put(self, name: str, expr: pl.Expr) -> pl.Expr:
        if name in self.level and self.level[name] >= 0:
            raise ValueError(f"column {name} is defined twice")
        deps = expr.meta.root_names()
        unknown = [d for d in deps if d not in self.level]
        if unknown:
            raise KeyError(f"{name} reads undefined column(s) {unknown}")
        level = 1 + max((self.level[d] for d in deps), default=-1)
        self.stages[level].append(expr.alias(name))
        self.level[name] = level
        self.order.append(name)
        return pl.col(name)

    def run(self, frame: pl.DataFrame) -> pl.DataFrame:
        for level in sorted(self.stages):
            frame = frame.with_columns(self.stages[level])
        return frame

"""``lsm backtest``: a model's working copy against the clues a published run gave (shadow mode).

The comparison is a pure function over two clue tables of one model (the run's and the working copy's,
same schema as ``clues.parquet``), keyed by the stable ``clue_id``:

* ``added`` — clues the working copy finds that the run did not;
* ``dropped`` — clues of the run the working copy no longer finds;
* ``changed`` — clues in both whose amount, period, rank or score differ (the fields are listed);
* ``same`` — the rest.

Counts are per rule; each rule lists a few examples of each kind with the subject masked, the values
before and after, and where the evidence came from (dataset, file, row). ``data_changes`` tells whether
the data root still holds the files the run read, so that a difference caused by new data is not taken
for one caused by the model.

Example::

    report = compare_clues(run_clues, working_clues, examples=3)
    report["rules"]["default"]["counts"]        # {'added': 1, 'dropped': 0, 'changed': 2, 'same': 15}
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pyarrow as pa

from engine.atomic import atomic_write_bytes
from engine.masking import mask_ids

COMPARED = ("amount", "period_start", "period_end", "rank", "score")
KINDS = ("added", "dropped", "changed", "same")
SCORE_TOLERANCE = 1e-9


def compare_clues(before: pa.Table, after: pa.Table, examples: int = 3) -> dict:
    """``{"counts": {kind: n}, "rules": {rule: {"counts", "examples": {kind: [...]}}}}``."""
    joined = _joined(pl.from_arrow(before), pl.from_arrow(after))
    rules: dict[str, dict] = {}
    for (rule,), group in joined.sort("rule_id", "rank_after", "rank_before", "clue_id").group_by(
            "rule_id", maintain_order=True):
        counts = {kind: int((group["kind"] == kind).sum()) for kind in KINDS}
        rules[rule] = {"counts": counts, "examples": {
            kind: [_example(row) for row in group.filter(pl.col("kind") == kind).head(examples).iter_rows(named=True)]
            for kind in KINDS[:3] if counts[kind]}}
    totals = {kind: sum(r["counts"][kind] for r in rules.values()) for kind in KINDS}
    return {"counts": totals, "rules": rules}


def _joined(before: pl.DataFrame, after: pl.DataFrame) -> pl.DataFrame:
    columns = ["clue_id", "rule_id", "subject_id", "subject_name", *COMPARED, "summary", "evidence"]
    both = before.select(columns).join(after.select(columns), on="clue_id", how="full", coalesce=True,
                                       suffix="_after")
    both = both.rename({c: f"{c}_before" for c in columns[1:]})
    differs = [_differs(c) for c in COMPARED]
    return both.with_columns(
        rule_id=pl.coalesce("rule_id_after", "rule_id_before"),
        changed_fields=pl.concat_list([pl.when(d).then(pl.lit(c)) for c, d in zip(COMPARED, differs, strict=True)])
        .list.drop_nulls(),
    ).with_columns(kind=pl.when(pl.col("rule_id_before").is_null()).then(pl.lit("added"))
                   .when(pl.col("rule_id_after").is_null()).then(pl.lit("dropped"))
                   .when(pl.col("changed_fields").list.len() > 0).then(pl.lit("changed"))
                   .otherwise(pl.lit("same")))


def _differs(column: str) -> pl.Expr:
    a, b = pl.col(f"{column}_before"), pl.col(f"{column}_after")
    unequal = (a - b).abs() > SCORE_TOLERANCE if column == "score" else a != b
    return unequal.fill_null(a.is_null() != b.is_null())


def _example(row: dict) -> dict:
    side = "after" if row["kind"] != "dropped" else "before"
    evidence = json.loads(row[f"evidence_{side}"] or "{}")
    return {
        "clue_id": row["clue_id"],
        "subject": mask_ids(row[f"subject_id_{side}"] or ""),
        "name": row[f"subject_name_{side}"],
        "summary": mask_ids(row[f"summary_{side}"] or ""),
        "fields": row["changed_fields"] if row["kind"] == "changed" else [],
        "before": _values(row, "before") if row["kind"] != "added" else None,
        "after": _values(row, "after") if row["kind"] != "dropped" else None,
        "sources": [{"dataset": s.get("dataset"), "file": s.get("file"), "row": s.get("row")}
                    for s in evidence.get("sources", [])][:10],
    }


def _values(row: dict, side: str) -> dict:
    def plain(value):
        return str(value) if value is not None and not isinstance(value, int | float) else value

    return {c: plain(row[f"{c}_{side}"]) for c in COMPARED}


def data_changes(run_datasets: list[dict], now_datasets: list[dict], names: list[str]) -> dict[str, dict]:
    """Per dataset of ``names`` whose files differ between the run's manifest and the ingest done now:
    ``{dataset: {"added": [...], "removed": [...], "changed": [...]}}`` (paths relative to the data root)."""
    def files(entries):
        return {d["name"]: {f["path"]: f["sha256"] for f in d.get("files", [])} for d in entries}

    then, now = files(run_datasets), files(now_datasets)
    out = {}
    for name in names:
        a, b = then.get(name, {}), now.get(name, {})
        change = {"added": sorted(set(b) - set(a)), "removed": sorted(set(a) - set(b)),
                  "changed": sorted(p for p in set(a) & set(b) if a[p] != b[p])}
        if any(change.values()):
            out[name] = change
    return out


def write_backtest(out_dir: Path, report: dict) -> Path:
    """``OUT/backtests/<model>..<run>.json``, written atomically."""
    target = Path(out_dir) / "backtests" / f"{report['model']}..{report['run']}.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(target, json.dumps(report, ensure_ascii=False, indent=1, default=str).encode())
    return target

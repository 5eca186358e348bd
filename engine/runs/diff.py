"""``lsm diff``: what changed between two published runs, per model and rule.

By default the latest run against the run it was compared with (its baseline). Reads the runs'
``clues.parquet`` (and the later run's ``clue_states.parquet`` to tell a new clue from a reopened
one); models that did not complete in either run are listed as not compared. Writes ``OUT/diffs/<A>..<B>.json`` and returns the same object. Subjects are
listed masked (ID numbers never leave the run directories in full).

Example::

    changes = diff_published(Path("runs"))            # the latest run against its baseline
    changes["counts"]["prisoner_dibao"]["default"]    # {'new': 3, 'persisting': 15, 'resolved': 1}
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq

from engine.atomic import atomic_write_bytes
from engine.masking import mask_ids
from engine.runs.directory import latest_run, run_dirs
from engine.runs.history import diff_counts, diff_runs


def diff_published(out_dir: Path, run_a: str | None = None, run_b: str | None = None) -> dict:
    out_dir = Path(out_dir)
    published = [p.name for p in run_dirs(out_dir)]
    if run_a is None and run_b is None:
        # The latest run and the run it was compared with (its baseline): a run folder that a kill left
        # beside `latest`, or a `--model` run, never shifts what "since last night" means.
        latest = latest_run(out_dir)
        previous = _manifest(latest).get("previous_run") if latest else None
        if latest is None or previous is None:
            raise KeyError(f"{out_dir} has no latest run compared with an earlier one; a diff needs two "
                           f"(or name them: lsm diff RUN_A RUN_B)")
        run_a, run_b = previous, latest.name
    elif run_b is None:
        later = [p for p in published if p > run_a]
        if not later:
            raise KeyError(f"no published run after {run_a} in {out_dir}")
        run_b = later[-1]
    for run in (run_a, run_b):
        if run not in published:
            raise KeyError(f"{run} is not a published run in {out_dir} (published: {', '.join(published[-5:])} …)")
    dir_a, dir_b = out_dir / run_a, out_dir / run_b
    states_path = dir_b / "clue_states.parquet"
    changes = diff_runs(pq.read_table(dir_a / "clues.parquet"), pq.read_table(dir_b / "clues.parquet"),
                        pq.read_table(states_path) if states_path.exists() else None, run_a)
    # A model that did not run to completion in either run is not compared (its clues were not looked at).
    status = {run: {m["id"]: m for m in _manifest(out_dir / run).get("models", [])} for run in (run_a, run_b)}
    not_compared = {}
    for model in sorted(set(status[run_a]) | set(status[run_b])):
        why = [f"{run}: {status[run].get(model, {}).get('status', 'not run')}" for run in (run_a, run_b)
               if status[run].get(model, {}).get("status") != "ok"]
        if why:
            not_compared[model] = "; ".join(why)
    changes = changes.filter(~pl.col("model_id").is_in(list(not_compared)))
    payload = {
        "run_a": run_a, "run_b": run_b, "counts": diff_counts(changes), "not_compared": not_compared,
        "changes": [{"model": m, "rule": r, "change": c, "clue_id": clue, "subject": mask_ids(s or "")}
                    for clue, m, r, s, c in changes.select(
                        ["clue_id", "model_id", "rule_id", "subject_id", "change"]).iter_rows()
                    if c != "persisting"],
    }
    target = out_dir / "diffs" / f"{run_a}..{run_b}.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(target, json.dumps(payload, ensure_ascii=False, indent=1).encode())
    payload["file"] = str(target)
    return payload


def _manifest(run_dir: Path) -> dict:
    return json.loads((Path(run_dir) / "manifest.json").read_text(encoding="utf-8"))

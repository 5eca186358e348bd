"""Clue history: each clue's state across runs, and the changes between two runs.

A run directory carries ``clue_states.parquet``: every clue ever seen in this output directory, with

* ``state`` — ``new`` (first seen in this run), ``persisting`` (also in the previous run),
  ``reopened`` (seen before, absent from the previous run, back now) or ``resolved`` (absent from
  this run; it stays ``resolved`` until it comes back);
* ``first_seen_run`` / ``last_seen_run`` — run ids (they sort by time).

States move only for models that ran to completion: the clues of a model that was skipped (a
blocking data-quality check), failed, or not selected keep their previous state, so a bad night
never "resolves" clues it did not look at. Pure functions over Arrow tables (Polars inside); the
caller reads and writes the files.

Example::

    states = next_states(previous_states, clues, run_id="20260701-020000-ab12cd", completed={"prisoner_dibao"})
    changes = diff_states(states_a, clues_a, clues_b, states_b)
"""

from __future__ import annotations

import polars as pl
import pyarrow as pa

STATE_SCHEMA = pa.schema([("clue_id", pa.string()), ("model_id", pa.string()), ("rule_id", pa.string()),
                          ("subject_id", pa.string()), ("state", pa.string()), ("first_seen_run", pa.string()),
                          ("last_seen_run", pa.string())])
PRESENT = ("new", "persisting", "reopened")
KEYS = ["clue_id", "model_id", "rule_id", "subject_id"]


def next_states(previous: pa.Table | None, clues: pa.Table, run_id: str, completed: set[str]) -> pa.Table:
    """The states after this run: ``clues`` are this run's clues, ``completed`` the models that ran."""
    current = pl.from_arrow(clues.select(KEYS)).unique("clue_id")
    prev = pl.from_arrow(previous if previous is not None else STATE_SCHEMA.empty_table()).select(STATE_SCHEMA.names)
    seen = current.join(prev.select("clue_id", "state", "first_seen_run"), on="clue_id", how="left")
    seen = seen.with_columns(
        state=pl.when(pl.col("state").is_null()).then(pl.lit("new"))
        .when(pl.col("state") == "resolved").then(pl.lit("reopened"))
        .otherwise(pl.lit("persisting")),
        first_seen_run=pl.coalesce("first_seen_run", pl.lit(run_id)),
        last_seen_run=pl.lit(run_id),
    )
    gone = prev.join(current.select("clue_id"), on="clue_id", how="anti")
    gone = gone.with_columns(
        state=pl.when(pl.col("model_id").is_in(list(completed))).then(pl.lit("resolved")).otherwise(pl.col("state")))
    out = pl.concat([seen.select(STATE_SCHEMA.names), gone.select(STATE_SCHEMA.names)], how="vertical")
    return out.sort(["model_id", "rule_id", "clue_id"]).to_arrow().cast(STATE_SCHEMA)


def state_counts(states: pa.Table) -> dict[str, dict[str, dict[str, int]]]:
    """``{model: {rule: {state: n}}}`` — the lifecycle part of a run's summary."""
    return _counts(pl.from_arrow(states), "state")


def diff_runs(clues_a: pa.Table, clues_b: pa.Table, states_b: pa.Table | None, run_a: str) -> pl.DataFrame:
    """What changed from run A to run B, one row per clue: ``change`` is ``new`` (never seen up to A),
    ``reopened`` (seen before A, absent from A, present in B), ``resolved`` (in A, not in B) or
    ``persisting`` (in both). Clues B's history knows as first seen after A count as new; without a
    history every clue absent from A is new."""
    a = pl.from_arrow(clues_a.select(KEYS)).unique("clue_id")
    b = pl.from_arrow(clues_b.select(KEYS)).unique("clue_id")
    added = b.join(a.select("clue_id"), on="clue_id", how="anti")
    if states_b is not None and states_b.num_rows:
        first = pl.from_arrow(states_b.select(["clue_id", "first_seen_run"]))
        added = added.join(first, on="clue_id", how="left").with_columns(
            change=pl.when(pl.col("first_seen_run").is_not_null() & (pl.col("first_seen_run") < run_a))
            .then(pl.lit("reopened")).otherwise(pl.lit("new"))).drop("first_seen_run")
    else:
        added = added.with_columns(change=pl.lit("new"))
    resolved = a.join(b.select("clue_id"), on="clue_id", how="anti").with_columns(change=pl.lit("resolved"))
    persisting = b.join(a.select("clue_id"), on="clue_id", how="semi").with_columns(change=pl.lit("persisting"))
    return pl.concat([added, resolved, persisting], how="vertical").sort(["model_id", "rule_id", "change", "clue_id"])


def diff_counts(changes: pl.DataFrame) -> dict[str, dict[str, dict[str, int]]]:
    """``{model: {rule: {change: n}}}``."""
    return _counts(changes, "change")


def _counts(frame: pl.DataFrame, column: str) -> dict[str, dict[str, dict[str, int]]]:
    out: dict[str, dict[str, dict[str, int]]] = {}
    keys = ["model_id", "rule_id", column]
    for model, rule, value, n in frame.group_by(keys).len().sort(keys).iter_rows():
        out.setdefault(model, {}).setdefault(rule, {})[value] = n
    return out

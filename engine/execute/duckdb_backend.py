"""Run a compiled plan on DuckDB: create each step, check fan-out, return the clue rows.

Staged datasets are loaded once per run as tables ``ds_<dataset>``; every
model step becomes a temporary view or table named after it. Nothing here
knows what a rule means: it dispatches on the step's materialisation and
performs the checks the plan asks for.

Example::

    backend = DuckDBBackend.in_memory(temp_dir=Path("runs/.tmp"))
    backend.load_dataset("dibao_payments", Path("runs/staging/datasets/dibao_payments.parquet"))
    clues = backend.run_model(plan)        # a pyarrow.Table in the columns of CONTRACT.md
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import polars as pl
import pyarrow as pa

from engine.catalog import Catalogue
from engine.ingest import empty_staged_frame
from engine.match import ops
from engine.model.compile import dataset_table
from engine.plan import ModelPlan

CLUE_SCHEMA = pa.schema([
    ("run_id", pa.string()), ("model_id", pa.string()), ("rule_id", pa.string()), ("clue_id", pa.string()),
    ("subject_type", pa.string()), ("subject_id", pa.string()), ("subject_name", pa.string()),
    ("rank", pa.int32()), ("score", pa.float64()), ("confidence", pa.float64()), ("amount", pa.decimal128(18, 2)),
    ("period_start", pa.date32()), ("period_end", pa.date32()), ("summary", pa.string()), ("evidence", pa.string()),
])


class ModelRunError(Exception):
    """A model failed while running (its message names the model, the rule and the step)."""

    def __init__(self, message: str, location=None):
        super().__init__(message)
        self.location = location


class DuckDBBackend:
    name = "duckdb"

    def __init__(self, con: duckdb.DuckDBPyConnection):
        self.con = con
        self.loaded: set[str] = set()
        self.match_reports: dict[str, dict[str, dict]] = {}  # model -> match relation -> funnel

    @classmethod
    def in_memory(cls, temp_dir: Path, memory_limit: str | None = None, threads: int | None = None
                  ) -> DuckDBBackend:
        temp_dir.mkdir(parents=True, exist_ok=True)
        con = duckdb.connect()
        con.execute("SET enable_progress_bar = false")
        con.execute("SET temp_directory = $d", {"d": str(temp_dir)})
        con.execute("SET memory_limit = $m", {"m": memory_limit or os.environ.get("LSM_DUCKDB_MEMORY", "4GB")})
        if threads:
            con.execute("SET threads = $t", {"t": threads})
        return cls(con)

    def close(self) -> None:
        self.con.close()

    def settings(self) -> dict:
        """The limits DuckDB actually runs with (recorded in the manifest)."""
        memory, threads, temp = self.con.execute(
            "SELECT current_setting('memory_limit'), current_setting('threads'), "
            "current_setting('temp_directory')").fetchall()[0]
        return {"memory_limit": memory, "threads": int(threads), "temp_directory": temp}

    # ------------------------------------------------------------------ data

    def load_dataset(self, name: str, parquet: Path) -> None:
        self.con.execute(f"CREATE OR REPLACE TABLE {dataset_table(name)} AS SELECT * FROM read_parquet($p)",
                         {"p": str(parquet)})
        self.loaded.add(name)

    def load_frame(self, name: str, frame: pl.DataFrame) -> None:
        """Load an in-memory staged frame (in-file model tests, validation on empty data)."""
        arrow = frame.to_arrow()
        self.con.register("_incoming", arrow)
        self.con.execute(f"CREATE OR REPLACE TABLE {dataset_table(name)} AS SELECT * FROM _incoming")
        self.con.unregister("_incoming")
        self.loaded.add(name)

    def load_empty(self, catalogue: Catalogue, names: list[str]) -> None:
        rules = catalogue.org_name.rules()
        for name in names:
            self.load_frame(name, empty_staged_frame(catalogue.dataset(name), rules))

    # ------------------------------------------------------------------ models

    def run_model(self, plan: ModelPlan) -> pa.Table:
        """The model's clue rows (any order; writers put them in rank order)."""
        missing = [d for d in plan.datasets if d not in self.loaded]
        if missing:
            raise ModelRunError(f"model {plan.model_id}: datasets not loaded: {missing}")
        funnels: dict[str, dict] = {}
        for step in plan.steps:
            where = f" ({step.location})" if step.location else ""
            try:
                self._run_step(step, funnels)
            except duckdb.Error as exc:
                raise ModelRunError(f"model {plan.model_id}, step {step.name}{where}: {exc}", step.location) from exc
            except ops.MatchExplosion as exc:
                raise ModelRunError(f"model {plan.model_id}{where}: {exc}", step.location) from exc
            if step.fanout_check:
                self._check_fanout(plan, step)
        for funnel in funnels.values():
            stem = funnel.pop("_stem")
            funnel["candidate_pairs"] = self.con.execute(f"SELECT count(*) FROM {stem}__pairs").fetchall()[0][0]
            funnel["links"] = self.con.execute(f"SELECT count(*) FROM {stem}").fetchall()[0][0]
        self.match_reports[plan.model_id] = funnels
        outputs = []
        for rule in plan.rules:
            outputs.append(self.con.sql(f"SELECT * EXCLUDE (score_explain) FROM {rule.output}").to_arrow_table())
        if not outputs:
            return CLUE_SCHEMA.empty_table()
        combined = pa.concat_tables(outputs)
        return combined.add_column(0, "run_id", pa.array([""] * combined.num_rows, pa.string())).cast(CLUE_SCHEMA)

    def _run_step(self, step, funnels: dict) -> None:
        operation = step.operation or {}
        if step.kind == "python":
            if operation["op"] == "features":
                ops.features(self.con, step.name, operation)
            elif operation["op"] == "params":
                summary = ops.params(self.con, step.name, operation)
                funnels.setdefault(operation["match"], {"blocking": []}).update(summary)
            else:  # pragma: no cover - the compiler only emits these operations
                raise ModelRunError(f"unknown operation {operation['op']}")
            return
        self.con.execute(step.create_sql("duckdb"))
        if step.kind == "guard":
            report = ops.block_guard(self.con, step.name, operation)
            funnel = funnels.setdefault(operation["match"], {"blocking": []})
            funnel["_stem"] = operation["stem"]
            funnel["blocking"].append(report)

    def _check_fanout(self, plan: ModelPlan, step) -> None:
        row = self.con.execute(
            f"SELECT subject_id, _hits, _bases FROM {step.name} WHERE _hits > _bases ORDER BY _hits - _bases DESC "
            f"LIMIT 1").fetchall()
        row = row[0] if row else None
        if row is not None:
            raise ModelRunError(
                f"model {plan.model_id}, rule {step.rule_id} ({step.location}): rows of '{step.fanout_check}' "
                f"fire the rule more than once ({row[1]} hits from {row[2]} rows for one subject) — a join "
                f"multiplies rows, so sums would be double counted. "
                f"Make the joined relation unique per row, use a semi/exists join, or set distinct_on: null "
                f"when nothing is summed.")

    def table(self, name: str) -> pa.Table:
        return self.con.sql(f"SELECT * FROM {name}").to_arrow_table()

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

import threading
import time
from pathlib import Path

import duckdb
import polars as pl
import pyarrow as pa
from sqlglot import exp

from engine.catalog import Catalogue
from engine.execute.connection import connect, seal
from engine.execute.connection import settings as connection_settings
from engine.execute.guard import StatementRefused, checked_sql
from engine.ingest import empty_staged_frame
from engine.match import ops
from engine.model.compile import dataset_table
from engine.plan import ModelPlan, Step
from engine.sql import count_rows, create_statement, ident, select_all, table_ref

INCOMING = "_incoming"  # the name an Arrow table computed in Python is registered under, briefly

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
    """Runs plans on one DuckDB connection. Inputs are loaded first; the first model step seals the
    connection (no file system access, settings locked) and every statement goes through the guard."""

    name = "duckdb"

    def __init__(self, con: duckdb.DuckDBPyConnection):
        self.con = con
        self.loaded: set[str] = set()
        self.known: set[str] = set()  # tables and views statements may read: inputs and created steps
        self.sealed = False
        self.match_reports: dict[str, dict[str, dict]] = {}  # model -> match relation -> funnel

    @classmethod
    def in_memory(cls, temp_dir: Path, memory_limit: str | None = None, threads: int | None = None
                  ) -> DuckDBBackend:
        return cls(connect(temp_dir, memory_limit, threads))

    def close(self) -> None:
        self.con.close()

    def settings(self) -> dict:
        """The limits DuckDB actually runs with (recorded in the manifest)."""
        return connection_settings(self.con)

    def seal(self) -> None:
        if not self.sealed:
            seal(self.con)
            self.sealed = True

    # ------------------------------------------------------------------ statements

    def execute(self, statement: exp.Expression) -> None:
        """Run one guarded statement; a created table or view becomes readable by later ones."""
        self.con.execute(checked_sql(statement, self.known))
        if isinstance(statement, exp.Create):
            self.known.add(statement.this.name)

    def fetch(self, query: exp.Expression) -> pa.Table:
        return self.con.sql(checked_sql(query, self.known)).to_arrow_table()

    def rows(self, query: exp.Expression) -> list[tuple]:
        return self.con.execute(checked_sql(query, self.known)).fetchall()

    def create_from_arrow(self, name: str, table: pa.Table) -> None:
        """A temporary table holding an Arrow table computed in Python (features, parameters, inputs)."""
        self.con.register(INCOMING, table)
        try:
            self.con.execute(checked_sql(create_statement(name, select_all(INCOMING)), self.known | {INCOMING}))
        finally:
            self.con.unregister(INCOMING)
        self.known.add(name)

    def table(self, name: str) -> pa.Table:
        return self.fetch(select_all(name))

    # ------------------------------------------------------------------ data

    def load_dataset(self, name: str, parquet: Path) -> None:
        """Load a staged dataset (before the connection is sealed: afterwards no file can be read)."""
        if self.sealed:
            raise ModelRunError(f"dataset {name} must be loaded before any model runs")
        target = ident(dataset_table(name)).sql("duckdb")
        self.con.execute(f"CREATE OR REPLACE TEMPORARY TABLE {target} AS SELECT * FROM read_parquet($p)",
                         {"p": str(parquet)})
        self.known.add(dataset_table(name))
        self.loaded.add(name)

    def load_frame(self, name: str, frame: pl.DataFrame) -> None:
        """Load an in-memory staged frame (in-file model tests, validation on empty data)."""
        self.create_from_arrow(dataset_table(name), frame.to_arrow())
        self.loaded.add(name)

    def load_empty(self, catalogue: Catalogue, names: list[str]) -> None:
        rules = catalogue.org_name.rules()
        for name in names:
            self.load_frame(name, empty_staged_frame(catalogue.dataset(name), rules))

    # ------------------------------------------------------------------ models

    def run_model(self, plan: ModelPlan, timeout: float | None = None) -> pa.Table:
        """The model's clue rows (any order; writers put them in rank order).

        ``timeout``: seconds the model may take; past it the running statement is interrupted and
        the model fails with that reason (the connection stays usable for the next model)."""
        missing = [d for d in plan.datasets if d not in self.loaded]
        if missing:
            raise ModelRunError(f"model {plan.model_id}: datasets not loaded: {missing}")
        self.seal()
        funnels: dict[str, dict] = {}
        with Deadline(self.con, timeout, plan.model_id) as deadline:
            for step in plan.steps:
                deadline.check()
                where = f" ({step.location})" if step.location else ""
                try:
                    self.run_step(step, funnels)
                except duckdb.InterruptException as exc:
                    raise ModelRunError(deadline.reason(), step.location) from exc
                except duckdb.Error as exc:
                    raise ModelRunError(f"model {plan.model_id}, step {step.name}{where}: {exc}", step.location) from exc
                except (ops.MatchExplosion, StatementRefused) as exc:
                    raise ModelRunError(f"model {plan.model_id}{where}: {exc}", step.location) from exc
                if step.fanout_check:
                    self._check_fanout(plan, step)
            for funnel in funnels.values():
                stem = funnel.pop("_stem")
                funnel["candidate_pairs"] = self.rows(count_rows(f"{stem}__pairs"))[0][0]
                funnel["links"] = self.rows(count_rows(stem))[0][0]
            self.match_reports[plan.model_id] = funnels
            outputs = [self.fetch(exp.select(exp.Star(except_=[exp.column("score_explain")])).from_(
                table_ref(rule.output))) for rule in plan.rules]
        if not outputs:
            return CLUE_SCHEMA.empty_table()
        combined = pa.concat_tables(outputs)
        return combined.add_column(0, "run_id", pa.array([""] * combined.num_rows, pa.string())).cast(CLUE_SCHEMA)

    def run_step(self, step: Step, funnels: dict) -> None:
        operation = step.operation or {}
        if step.data is not None:
            self.create_from_arrow(step.name, step.data)
            return
        if step.kind == "python":
            if operation["op"] == "features":
                ops.features(self, step.name, operation)
            elif operation["op"] == "params":
                summary = ops.params(self, step.name, operation)
                funnels.setdefault(operation["match"], {"blocking": []}).update(summary)
            else:  # pragma: no cover - the compiler only emits these operations
                raise ModelRunError(f"unknown operation {operation['op']}")
            return
        self.execute(step.statement())
        if step.kind == "guard" and operation["op"] == "cross_guard":
            ops.cross_guard(self, step.name, operation)
        elif step.kind == "guard":
            report = ops.block_guard(self, step.name, operation)
            funnel = funnels.setdefault(operation["match"], {"blocking": []})
            funnel["_stem"] = operation["stem"]
            funnel["blocking"].append(report)

    def _check_fanout(self, plan: ModelPlan, step: Step) -> None:
        excess = exp.Sub(this=exp.column("_hits"), expression=exp.column("_bases"))
        found = self.rows(exp.select("subject_id", "_hits", "_bases").from_(table_ref(step.name)).where(
            exp.GT(this=exp.column("_hits"), expression=exp.column("_bases"))).order_by(
            exp.Ordered(this=excess, desc=True)).limit(1))
        if found:
            _, hits, bases = found[0]
            raise ModelRunError(
                f"model {plan.model_id}, rule {step.rule_id} ({step.location}): rows of '{step.fanout_check}' "
                f"fire the rule more than once ({hits} hits from {bases} rows for one subject) — a join "
                f"multiplies rows, so sums would be double counted. "
                f"Make the joined relation unique per row, use a semi/exists join, or set distinct_on: null "
                f"when nothing is summed.")


class Deadline:
    """A model's time limit: a timer interrupts the running statement; steps check it in between."""

    def __init__(self, con: duckdb.DuckDBPyConnection, seconds: float | None, model_id: str):
        self.con, self.seconds, self.model_id = con, seconds, model_id
        self.timer: threading.Timer | None = None
        self.end: float | None = None
        self.lock = threading.Lock()
        self.active = False

    def __enter__(self) -> Deadline:
        if self.seconds:
            self.end = time.monotonic() + self.seconds
            self.active = True
            self.timer = threading.Timer(self.seconds, self._expire)
            self.timer.daemon = True
            self.timer.start()
        return self

    def _expire(self) -> None:
        with self.lock:  # never interrupt the statement of a model that came after this one
            if self.active:
                self.con.interrupt()

    def __exit__(self, *exc) -> None:
        with self.lock:
            self.active = False
        if self.timer is not None:
            self.timer.cancel()

    def reason(self) -> str:
        return (f"model {self.model_id}: stopped after the per-model time limit of {self.seconds:g} s "
                f"(--model-timeout); the other models still ran")

    def check(self) -> None:
        if self.end is not None and time.monotonic() > self.end:
            raise ModelRunError(self.reason())

"""The backend interface: what every engine must do to run a plan (DuckDB, Spark).

In the manner of Splink's ``DatabaseAPI``: a backend implements a few primitives — load a staged
dataset, create a table from an Arrow table, run one statement, fetch a query's rows, interrupt
a model past its time limit — and inherits the rest, which is the same for every engine: the
dispatch on each step's class (:meth:`Backend.run_step`), the guards and computed steps
(:mod:`engine.execute.match_ops`), the fan-out check, the funnels, and the wrapping of every error
with the model, the step and its location (:meth:`Backend.run_model`). Every statement is rendered
in the backend's dialect and passes the statement guard (:mod:`engine.execute.guard`) first.

Example::

    backend = DuckDBBackend.in_memory(Path("runs/.tmp"))
    backend.load_dataset("dibao_payments", Path("runs/staging/datasets/dibao_payments.parquet"))
    clues = backend.run_model(plan, timeout=3600)      # pyarrow.Table in the columns of CONTRACT.md
"""

from __future__ import annotations

import contextlib
from abc import ABC, abstractmethod
from collections.abc import Collection, Iterable, Iterator
from pathlib import Path
from typing import ClassVar

import polars as pl
import pyarrow as pa
from sqlglot import exp

from engine.dialects import DIALECTS
from engine.execute import match_ops as ops
from engine.execute.guard import StatementRefused, checked_sql
from engine.plan.steps import (
    BlockGuardStep,
    CluesStep,
    CrossGuardStep,
    FeaturesStep,
    LookupStep,
    ModelPlan,
    ParameterFitStep,
    QueryStep,
    Step,
    dataset_table,
)
from engine.sql import count_rows, select_all, table_ref

CLUE_SCHEMA = pa.schema([
    ("run_id", pa.string()), ("model_id", pa.string()), ("rule_id", pa.string()), ("clue_id", pa.string()),
    ("subject_type", pa.string()), ("subject_id", pa.string()), ("subject_name", pa.string()),
    ("rank", pa.int32()), ("score", pa.float64()), ("confidence", pa.float64()), ("amount", pa.decimal128(18, 2)),
    ("period_start", pa.date32()), ("period_end", pa.date32()), ("summary", pa.string()), ("evidence", pa.string()),
])


class InputsChanged(RuntimeError):
    """A staged input changed while the models ran: the night's results cannot be trusted (not one model's
    failure: the run stops)."""


class ModelRunError(Exception):
    """A model failed while running (its message names the model, the rule and the step)."""

    def __init__(self, message: str, location=None, sql: str | None = None):
        super().__init__(message)
        self.location = location
        self.sql = sql


class Interrupted(Exception):
    """The running statement was stopped because the model passed its time limit."""


class Backend(ABC):
    name: ClassVar[str]
    dialect: ClassVar[str]  # a key of engine.dialects.DIALECTS

    def __init__(self) -> None:
        self.loaded: set[str] = set()
        self.known: set[str] = set()  # tables and views statements may read: inputs and created steps
        self.match_reports: dict[str, dict[str, dict]] = {}  # model -> match relation -> funnel

    # ------------------------------------------------------------------ primitives (per engine)

    @abstractmethod
    def load_dataset(self, name: str, parquet: Path) -> None:
        """Make a staged dataset readable as ``ds_<name>`` (adds it to ``known`` and ``loaded``)."""

    @abstractmethod
    def create_from_arrow(self, name: str, table: pa.Table) -> None:
        """A temporary table holding an Arrow table computed in Python (adds it to ``known``)."""

    @abstractmethod
    def _run_sql(self, sql: str) -> None:
        """Run one guarded statement that creates a table or view."""

    @abstractmethod
    def _fetch_sql(self, sql: str) -> pa.Table:
        """The rows of one guarded query as an Arrow table."""

    @abstractmethod
    def _rows_sql(self, sql: str) -> list[tuple]:
        """The rows of one guarded query as tuples (small results: counts, examples)."""

    @abstractmethod
    def deadline(self, seconds: float | None, model_id: str) -> contextlib.AbstractContextManager:
        """A time limit for one model: past it the running statement stops with :class:`Interrupted`."""

    @abstractmethod
    def engine_errors(self) -> tuple[type[BaseException], ...]:
        """The exception types the engine raises for a statement that cannot run."""

    @abstractmethod
    def settings(self) -> dict:
        """The limits the engine actually runs with (recorded in the manifest)."""

    @abstractmethod
    def close(self) -> None: ...

    @abstractmethod
    def seal(self) -> None:
        """Forbid file access from now on, where the engine can (called before the first model runs)."""

    # ------------------------------------------------------------------ statements

    def execute(self, statement: exp.Expression) -> None:
        """Run one guarded statement; a created table or view becomes readable by later ones."""
        self._run_sql(checked_sql(statement, self.known, DIALECTS[self.dialect]))
        if isinstance(statement, exp.Create):
            self.known.add(statement.this.name)

    def fetch(self, query: exp.Expression) -> pa.Table:
        return self._fetch_sql(checked_sql(query, self.known, DIALECTS[self.dialect]))

    def rows(self, query: exp.Expression) -> list[tuple]:
        return self._rows_sql(checked_sql(query, self.known, DIALECTS[self.dialect]))

    def table(self, name: str) -> pa.Table:
        return self.fetch(select_all(name))

    def load_staged(self, datasets: Iterable, skip: Collection[str] = ()) -> None:
        """Load every staged dataset of an ingest (items with ``name`` and ``staged``, the Parquet path or
        None when the dataset could not be staged), except those named in ``skip``."""
        for d in datasets:
            if d.staged and d.name not in skip:
                self.load_dataset(d.name, Path(d.staged))

    def load_frame(self, name: str, frame: pl.DataFrame) -> None:
        """Load an in-memory staged frame (in-file model tests, validation on empty data)."""
        self.create_from_arrow(dataset_table(name), frame.to_arrow())
        self.loaded.add(name)

    # ------------------------------------------------------------------ plans

    def run_step(self, step: Step, funnels: dict) -> None:
        """Create one step's table or view (or compute it), then perform the check it asks for."""
        if isinstance(step, LookupStep):
            self.create_from_arrow(step.name, step.data)
        elif isinstance(step, FeaturesStep):
            ops.features(self, step)
        elif isinstance(step, ParameterFitStep):
            funnels.setdefault(step.match, {"blocking": []}).update(ops.params(self, step))
        elif isinstance(step, QueryStep):
            self.execute(step.statement())
            if isinstance(step, CrossGuardStep):
                ops.cross_guard(self, step)
            elif isinstance(step, BlockGuardStep):
                funnel = funnels.setdefault(step.match, {"blocking": []})
                funnel["_stem"] = step.stem
                funnel["blocking"].append(ops.block_guard(self, step))
        else:  # pragma: no cover - every step class is handled above
            raise TypeError(f"no backend operation for {type(step).__name__}")

    def run_model(self, plan: ModelPlan, timeout: float | None = None) -> pa.Table:
        """The model's clue rows (any order; writers put them in rank order).

        ``timeout``: seconds the model may take; past it the running statement is stopped and the
        model fails with that reason (the backend stays usable for the next model)."""
        missing = [d for d in plan.datasets if d not in self.loaded]
        if missing:
            raise ModelRunError(f"model {plan.model_id}: datasets not loaded: {missing}")
        self.seal()
        funnels: dict[str, dict] = {}
        with self.deadline(timeout, plan.model_id) as limit:
            for step in plan.steps:
                limit.check()
                with self._step_errors(plan, step, limit):
                    self.run_step(step, funnels)
                if isinstance(step, CluesStep) and step.fanout_check:
                    self._check_fanout(plan, step)
            for funnel in funnels.values():
                stem = funnel.pop("_stem")
                funnel["candidate_pairs"] = self.rows(count_rows(f"{stem}__pairs"))[0][0]
                funnel["links"] = self.rows(count_rows(stem))[0][0]
            self.match_reports[plan.model_id] = funnels
            columns = [exp.column(name) for name in CLUE_SCHEMA.names[1:]]  # run_id is the run's to add
            outputs = [self.fetch(exp.select(*columns).from_(table_ref(rule.output))) for rule in plan.rules]
        if not outputs:
            return CLUE_SCHEMA.empty_table()
        combined = pa.concat_tables([o.cast(CLUE_SCHEMA.remove(0)) for o in outputs])
        return combined.add_column(0, "run_id", pa.array([""] * combined.num_rows, pa.string())).cast(CLUE_SCHEMA)

    @contextlib.contextmanager
    def _step_errors(self, plan: ModelPlan, step: Step, limit) -> Iterator[None]:
        """Every failure of a step as a ModelRunError naming the model, the step and its location."""
        where = f" ({step.location})" if step.location else ""
        try:
            yield
        except Interrupted as exc:
            raise ModelRunError(limit.reason(), step.location) from exc
        except (ops.MatchExplosion, StatementRefused) as exc:
            raise ModelRunError(f"model {plan.model_id}{where}: {exc}", step.location) from exc
        except self.engine_errors() as exc:
            sql = step.statement().sql() if isinstance(step, QueryStep) else None
            raise ModelRunError(f"model {plan.model_id}, step {step.name}{where}: {str(exc).splitlines()[0]}",
                                step.location, sql) from exc

    def _check_fanout(self, plan: ModelPlan, step: CluesStep) -> None:
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


class TimeLimit:
    """The part of a deadline every backend shares: the reason and the check between steps."""

    def __init__(self, seconds: float | None, model_id: str, now):
        self.seconds, self.model_id, self.now = seconds, model_id, now
        self.end = now() + seconds if seconds else None

    def reason(self) -> str:
        return (f"model {self.model_id}: stopped after the per-model time limit of {self.seconds:g} s "
                f"(--model-timeout); the other models still ran")

    def check(self) -> None:
        if self.end is not None and self.now() > self.end:
            raise ModelRunError(self.reason())

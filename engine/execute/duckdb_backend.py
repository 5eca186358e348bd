"""The DuckDB backend: one in-memory connection per run, sealed before the first model runs.

Staged datasets are temporary views ``ds_<dataset>`` over their staged Parquet files; then the
connection is sealed (:func:`engine.database.seal`: no file access but reading exactly those files,
settings locked; a staged file that changes while the models run stops the run) and every step
becomes a temporary view or table named after it. A model past its time limit is stopped with
DuckDB's ``interrupt``. Everything else — the dispatch on step classes, guards, funnels, errors —
is :class:`engine.execute.backend.Backend`'s.

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
import pyarrow as pa
from sqlglot import exp

from engine.database import connect, seal
from engine.database import settings as connection_settings
from engine.execute.backend import Backend, InputsChanged, Interrupted, ModelRunError, TimeLimit
from engine.execute.guard import checked_sql
from engine.plan.steps import ModelPlan, dataset_table
from engine.sql import create_statement, select_all

INCOMING = "_incoming"  # the name an Arrow table computed in Python is registered under, briefly


def _file_state(path: Path) -> tuple[int, int]:
    stat = path.stat()
    return stat.st_size, stat.st_mtime_ns


class DuckDBBackend(Backend):
    name = "duckdb"
    dialect = "duckdb"

    def __init__(self, con: duckdb.DuckDBPyConnection):
        super().__init__()
        self.con = con
        self.sealed = False
        self.readable: dict[str, tuple[int, int]] = {}  # staged Parquet path -> (size, mtime_ns) when loaded

    @classmethod
    def in_memory(cls, temp_dir: Path, memory_limit: str | None = None, threads: int | None = None
                  ) -> DuckDBBackend:
        return cls(connect(temp_dir, memory_limit, threads))

    def close(self) -> None:
        self.con.close()

    def settings(self) -> dict:
        return connection_settings(self.con)

    def seal(self) -> None:
        if not self.sealed:
            seal(self.con, sorted(self.readable))
            self.sealed = True

    def engine_errors(self) -> tuple[type[BaseException], ...]:
        return (duckdb.Error,)

    # ------------------------------------------------------------------ primitives

    def _run_sql(self, sql: str) -> None:
        try:
            self.con.execute(sql)
        except duckdb.InterruptException as exc:
            raise Interrupted(str(exc)) from exc

    def _fetch_sql(self, sql: str) -> pa.Table:
        try:
            return self.con.sql(sql).to_arrow_table()
        except duckdb.InterruptException as exc:
            raise Interrupted(str(exc)) from exc

    def _rows_sql(self, sql: str) -> list[tuple]:
        try:
            return self.con.execute(sql).fetchall()
        except duckdb.InterruptException as exc:
            raise Interrupted(str(exc)) from exc

    def create_from_arrow(self, name: str, table: pa.Table) -> None:
        self.con.register(INCOMING, table)
        try:
            self._run_sql(checked_sql(create_statement(name, select_all(INCOMING)), self.known | {INCOMING}))
        finally:
            self.con.unregister(INCOMING)
        self.known.add(name)

    def load_dataset(self, name: str, parquet: Path) -> None:
        """Make a staged dataset readable as a view over its Parquet file (before the connection is sealed;
        sealing allows exactly these files to be read). A view, not a copy: the night's tables are not
        loaded into memory (7 s and a spill at 10 M rows), and each model reads only the columns it needs."""
        if self.sealed:
            raise ModelRunError(f"dataset {name} must be loaded before any model runs")
        path = Path(parquet).resolve()
        # The engine's own statement (a table function the guard would refuse in a model's SQL), the path
        # rendered as an escaped literal (DuckDB's views take no parameters).
        source = exp.select(exp.Star()).from_(exp.func("read_parquet", exp.Literal.string(str(path))))
        self.con.execute(create_statement(dataset_table(name), source, view=True).sql("duckdb"))
        self.readable[str(path)] = _file_state(path)
        self.known.add(dataset_table(name))
        self.loaded.add(name)

    def run_model(self, plan: ModelPlan, timeout: float | None = None) -> pa.Table:
        clues = super().run_model(plan, timeout)
        self._check_inputs_untouched(plan.model_id)
        return clues

    def _check_inputs_untouched(self, model_id: str) -> None:
        """The staged files are the one thing a sealed connection may read; if any changed while a model
        ran (nothing the engine builds can write them, but this is the last line), the run stops."""
        changed = [p for p, state in self.readable.items() if _file_state(Path(p)) != state]
        if changed:
            raise InputsChanged(f"model {model_id}: staged input file(s) changed while the models ran: {changed}; "
                                "the run is stopped, ingest again")

    def deadline(self, seconds: float | None, model_id: str) -> Deadline:
        return Deadline(self.con, seconds, model_id)


class Deadline(TimeLimit):
    """A timer interrupts DuckDB's running statement; the steps check the time in between."""

    def __init__(self, con: duckdb.DuckDBPyConnection, seconds: float | None, model_id: str):
        super().__init__(seconds, model_id, time.monotonic)
        self.con = con
        self.timer: threading.Timer | None = None
        self.lock = threading.Lock()
        self.active = False

    def __enter__(self) -> Deadline:
        if self.seconds:
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

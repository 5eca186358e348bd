"""The one facade every shell stands on: CLI, notebooks, the nightly job, the web app.

A :class:`Project` knows where the models, the data and the outputs are, and
offers each operation as a method, so a notebook can do exactly what the CLI
does (in the manner of SQLMesh's ``Context`` or Splink's ``Linker``).

Example::

    project = Project(data_dir=Path("sample_data/generated"))
    result = project.ingest()
    result.dataset("dibao_payments").rows_accepted
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.parquet as pq
from sqlglot import exp

from connectors.files import discover
from engine.compile.model import compile_model
from engine.execute.backend import Backend, ModelRunError
from engine.execute.duckdb_backend import DuckDBBackend
from engine.ingest.ingest import IngestResult, Staging, empty_staged_frame, ingest
from engine.ingest.normalize.orgs import OrgKeyRules
from engine.model_tests import TestOutcome, run_model_tests
from engine.plan.explain import explain
from engine.plan.portability import spark_problems
from engine.plan.steps import LinksStep, ModelPlan, NearMissStep
from engine.reporting import Reporter, SilentReporter
from engine.runs.backtest import compare_clues, data_changes, write_backtest
from engine.runs.diff import diff_published
from engine.runs.directory import RunLock, latest_run
from engine.runs.runner import RunOptions, execute_run
from engine.settings import (
    DEFAULT_DATA,
    DEFAULT_MODELS,
    DEFAULT_OUT,
    ENGINES,
    BacktestFailed,
    EngineUnavailable,
)
from engine.spec.catalog import Catalogue
from engine.spec.connections import load_connections
from engine.spec.errors import Location, Problem, SpecError
from engine.spec.files import ModelFiles
from engine.spec.load import LoadedModel
from engine.sql import count_rows, select_all

DRY_RUN_TIMEOUT = 60.0  # seconds a model may take on empty tables (lsm validate)
DRY_RUN_MEMORY = "1GB"

@dataclass
class SourceFiles:
    dataset: str
    title: str
    agency: str
    files: list[Path]
    database: str | None = None  # connections.yaml serves it: ``postgresql:<table>`` (files are then not read)


class Project:
    def __init__(self, models_dir: Path | None = None, data_dir: Path | None = None, out_dir: Path | None = None,
                 reporter: Reporter | None = None):
        self.models_dir = Path(models_dir or DEFAULT_MODELS)
        self.data_dir = Path(data_dir or DEFAULT_DATA)
        self.out_dir = Path(out_dir or DEFAULT_OUT)
        self.reporter = reporter or SilentReporter()

    @functools.cached_property
    def files(self) -> ModelFiles:
        return ModelFiles(self.models_dir)

    @property
    def catalogue(self) -> Catalogue:
        return self.files.catalogue

    @property
    def staging(self) -> Staging:
        return Staging(self.out_dir / "staging")

    def sources(self) -> list[SourceFiles]:
        """The catalogue, and for the data root which files each dataset would read."""
        connections = load_connections(self.data_dir) if self.data_dir.is_dir() else {}
        found = []
        for d in self.catalogue.datasets:
            files = discover(self.data_dir, d.file_patterns) if self.data_dir.is_dir() else []
            served = connections.get(d.name)
            database = f"{served.postgres.label} (${served.postgres.dsn_env})" if served else None
            found.append(SourceFiles(d.name, d.title, d.agency, [] if served else files, database))
        return found

    def ingest(self, datasets: list[str] | None = None, reporter: Reporter | None = None,
               staging: Staging | None = None, holding_lock: bool = False) -> IngestResult:
        """Stage the data root's files (an unchanged file is read from the per-file cache).

        The staging belongs to the output directory, so ingesting takes its lock like a run does
        (``LockHeld`` when a run or another ingest holds it): a run never reads staging that changes
        under it. ``holding_lock``: the caller (a run) already holds it."""
        unknown = sorted(set(datasets or []) - set(self.catalogue.names))
        if unknown:
            raise KeyError(f"unknown dataset(s) {unknown}; the catalogue has {list(self.catalogue.names)}")
        if holding_lock:
            return ingest(self.catalogue, self.data_dir, staging or self.staging, datasets, reporter or self.reporter)
        with RunLock(self.out_dir):
            return ingest(self.catalogue, self.data_dir, staging or self.staging, datasets, reporter or self.reporter)

    # ------------------------------------------------------------------ models

    def load_models(self, ids: list[str] | None = None) -> list[LoadedModel]:
        """Load the model files; raises SpecError with every problem (of the selected models)."""
        return self.files.load_models(ids)

    def compile(self, as_of: dt.date, ids: list[str] | None = None, engine: str = "duckdb") -> list[ModelPlan]:
        """Compile the models; for Spark, every function the plans call must be one Spark has."""
        if engine not in ENGINES:
            raise KeyError(f"unknown engine '{engine}' ({' or '.join(ENGINES)})")
        plans, problems = [], []
        for loaded in self.load_models(ids):
            try:
                plans.append(compile_model(loaded, self.catalogue, as_of))
            except SpecError as exc:
                problems.extend(exc.problems)
        if engine == "spark":
            problems += [p for plan in plans for p in spark_problems(plan)]
        if problems:
            raise SpecError(problems)
        return plans

    def validate(self, ids: list[str] | None = None, timeout: float | None = DRY_RUN_TIMEOUT,
                 memory_limit: str = DRY_RUN_MEMORY, engine: str = "duckdb") -> list[ModelPlan]:
        """Load, compile and dry-run every model on empty tables; raises SpecError listing all problems.

        The dry run has a memory limit and a per-model time limit: a model that cannot run on empty
        tables within them is reported like any other problem."""
        plans = self.compile(dt.date.today(), ids, engine)  # the dry run itself is on DuckDB
        problems: list[Problem] = []
        with tempfile.TemporaryDirectory(prefix="lsm-validate-") as tmp:
            backend = self.backend("duckdb", Path(tmp), memory_limit=memory_limit)
            try:
                rules = OrgKeyRules.of(self.catalogue.org_name)
                for name in sorted({d for p in plans for d in p.datasets}):
                    backend.load_frame(name, empty_staged_frame(self.catalogue.dataset(name), rules))
                for plan in plans:
                    try:
                        backend.run_model(plan, timeout)
                    except ModelRunError as exc:
                        message = str(exc).splitlines()[0]
                        problems.append(Problem(exc.location or _fallback(plan), f"does not run: {message}"))
            finally:
                backend.close()
        if problems:
            raise SpecError(problems)
        return plans

    def test(self, ids: list[str] | None = None) -> list[TestOutcome]:
        outcomes = []
        for loaded in self.load_models(ids):
            outcomes.extend(run_model_tests(loaded, self.catalogue))
        return outcomes

    def explain(self, model_id: str, as_of: dt.date | None = None, dialect: str = "duckdb") -> str:
        plan = self.compile(as_of or dt.date.today(), [model_id])[0]
        return explain(plan, dialect)

    def explain_matches(self, model_id: str, as_of: dt.date | None = None, near: int = 10) -> list[dict]:
        """Run a model's match relations on the data root: the funnel of each, and the rejected
        candidate pairs closest to acceptance (for tuning the decision)."""
        plan = self.compile(as_of or dt.date.today(), [model_id])[0]
        links = [s for s in plan.steps if isinstance(s, LinksStep)]
        if not links:
            return []
        ingested = self.ingest(plan.datasets)
        with tempfile.TemporaryDirectory(prefix="lsm-explain-") as tmp:
            backend = self.backend("duckdb", Path(tmp))
            try:
                backend.load_staged(ingested.datasets)
                backend.seal()
                last = max(i for i, s in enumerate(plan.steps) if isinstance(s, NearMissStep))
                funnels: dict = {}
                for step in plan.steps[: last + 1]:
                    backend.run_step(step, funnels)
                return [self._match_report(backend, step, funnels, near) for step in links]
            finally:
                backend.close()

    @staticmethod
    def _match_report(backend, links: LinksStep, funnels: dict, near: int) -> dict:
        funnel = dict(funnels.get(links.match, {}))
        funnel.pop("_stem", None)
        funnel["candidate_pairs"] = backend.rows(count_rows(f"{links.stem}__pairs"))[0][0]
        funnel["links"] = backend.rows(count_rows(links.stem))[0][0]
        nearest = select_all(links.near_misses).order_by(
            exp.Ordered(this=exp.column("match_probability"), desc=True), exp.column("_lrid"),
            exp.column("_rrid")).limit(int(near))
        return {"relation": links.match, "accept": links.accept_text, "funnel": funnel,
                "near_misses": backend.fetch(nearest).to_pylist()}

    def backend(self, engine: str, temp_dir: Path, memory_limit: str | None = None, threads: int | None = None,
                spark_master: str | None = None) -> Backend:
        if engine == "duckdb":
            return DuckDBBackend.in_memory(temp_dir, memory_limit, threads)
        if engine == "spark":
            # Imported here, not at the top: PySpark takes ~1 s to import, and only Spark runs need it.
            from engine.execute.spark_backend import SparkBackend

            try:
                return SparkBackend.start(spark_master, temp_dir, memory_limit, threads)
            except Exception as exc:  # no Java, an unreachable master: the run cannot start
                raise EngineUnavailable(f"Spark could not start ({type(exc).__name__}: {str(exc)[:300]}); "
                                        f"check Java 17 and --spark-master") from exc
        raise KeyError(f"unknown engine '{engine}' ({' or '.join(ENGINES)})")

    def run(self, as_of: dt.date | None = None, ids: list[str] | None = None, engine: str = "duckdb",
            options=None):
        """Validate, then run the models and publish a run directory (see engine.runs.runner)."""
        as_of = as_of or dt.date.today()
        plans = self.compile(as_of, ids, engine)
        if not self.data_dir.is_dir():
            hint = " (generate it with `lsm sample` or `make demo`)" if self.data_dir == DEFAULT_DATA else ""
            raise KeyError(f"the data root {self.data_dir} does not exist{hint}")
        return execute_run(self, plans, as_of, engine, replace(options or RunOptions(), subset=bool(ids)))

    def nightly(self, as_of: dt.date | None = None, options=None, engine: str = "duckdb"):
        """The unattended night: every model, on the agencies' drop folder (see docs/operations.md)."""
        return self.run(as_of, None, engine, options)

    def backtest(self, model_id: str, against: Path | None = None, data_dir: Path | None = None,
                 examples: int = 3) -> dict:
        """Run the working copy of one model on the data of a published run (default: the latest of the
        output directory) and compare its clues with the run's (see engine.runs.backtest). Nothing of the
        output directory changes but its per-file ingest cache and ``backtests/<model>..<run>.json``."""
        run_dir = Path(against).resolve() if against else latest_run(self.out_dir)
        if run_dir is None or not (run_dir / "manifest.json").exists():
            where = against or f"{self.out_dir}/latest"
            raise KeyError(f"{where} is not a published run directory (it has no manifest.json); "
                           f"name one with --against RUN_DIR")
        manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
        as_of = dt.date.fromisoformat(manifest["as_of"])
        shadow = Project(self.models_dir, Path(data_dir or manifest["data_root"]), run_dir.parent, self.reporter)
        plan = shadow.compile(as_of, [model_id])[0]
        ingested = shadow.ingest(plan.datasets)
        unread = [f"{d.name}: {d.error or d.missing or 'not staged'}" for d in ingested.datasets if not d.staged]
        if unread:
            raise BacktestFailed(f"the data root {shadow.data_dir} cannot give the model its data ({'; '.join(unread)})")
        with tempfile.TemporaryDirectory(prefix="lsm-backtest-") as tmp:
            backend = shadow.backend("duckdb", Path(tmp))
            try:
                backend.load_staged(ingested.datasets)
                working = backend.run_model(plan)
            except ModelRunError as exc:
                raise BacktestFailed(f"{model_id} does not run on {shadow.data_dir}: {str(exc).splitlines()[0]}") from exc
            finally:
                backend.close()
        clues = pq.read_table(run_dir / "clues.parquet")
        before = clues.filter(pc.equal(clues["model_id"], model_id))
        ran = {m["id"]: m for m in manifest.get("models", [])}.get(model_id, {})
        report = {"model": model_id, "run": run_dir.name, "as_of": manifest["as_of"],
                  "data_root": str(shadow.data_dir), "run_status": ran.get("status", "not run"),
                  "plan_unchanged": ran.get("fingerprint") == plan.fingerprint,
                  "data_changes": data_changes(manifest.get("datasets", []),
                                               [d.to_manifest() for d in ingested.datasets], list(plan.datasets)),
                  **compare_clues(before, working, examples)}
        report["file"] = str(write_backtest(run_dir.parent, report))
        return report

    def diff(self, run_a: str | None = None, run_b: str | None = None) -> dict:
        """What changed between two published runs (default: the latest and its baseline); see engine.runs.history."""
        return diff_published(self.out_dir, run_a, run_b)



def _fallback(plan: ModelPlan):
    return Location(plan.source_file)

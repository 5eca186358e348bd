"""One run: lock → ingest → quality gates → models → clue history → outputs → publish → notify.

The facade's ``run`` and ``nightly`` call :func:`execute_run`. Everything is written into
``OUT/.incoming/<run_id>/`` (with the run's JSON-lines log) and renamed into place only when
complete; ``latest`` moves last. Finished models are cached by (model, inputs, as-of), so the rerun
of a killed night recomputes only what was not finished. Exit codes follow CONTRACT.md:
0 all models ran; 1 a model failed (others still ran and were written);
2 a model-definition error (nothing ran); 3 a blocking data-quality check
failed (dependent models skipped; when a model also failed, 1 wins);
4 another run holds the lock (nothing ran).

Example::

    result = execute_run(project, as_of=date(2024, 6, 30))
    result.exit_code, result.run_dir
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from engine import __version__
from engine.atomic import atomic_parquet, atomic_write_bytes
from engine.execute.backend import CLUE_SCHEMA, Backend, ModelRunError
from engine.ingest.ingest import IngestResult, Staging
from engine.masking import mask_ids
from engine.plan.steps import ModelPlan
from engine.quality.expectations import run_expectations, warm_up
from engine.quality.gates import basic_checks
from engine.quality.results import QualityResult
from engine.report.html import render_report
from engine.report.outputs import write_clue_files
from engine.report.quality_page import render_quality_html
from engine.reporting import JsonLinesReporter, TeeReporter
from engine.runs.cache import ModelCache
from engine.runs.directory import INCOMING, RunLock, latest_run, new_run_id, publish, run_dirs, start_run
from engine.runs.history import next_states, state_counts
from engine.runs.summary import build_summary, file_changes, notify

SCHEMA_VERSION = 1
LOG_NAME = "log.jsonl"  # the run's JSON-lines log (no full ID numbers)
CACHE = Path("cache") / "models"
EXIT_OK, EXIT_MODEL_FAILED, EXIT_USAGE, EXIT_QUALITY, EXIT_LOCKED = 0, 1, 2, 3, 4
DEFAULT_MODEL_TIMEOUT = 3600.0  # an hour per model: a night of ten models still ends by morning


@dataclass
class ModelOutcome:
    id: str
    version: str
    fingerprint: str
    status: str  # ok | failed | skipped
    reason: str | None = None
    clues: int = 0
    seconds: float = 0.0
    reused: bool = False  # read back from the model cache (same model, inputs and as-of)
    metadata_fingerprint: str = ""  # titles, descriptions, tests: changes nothing in the results


@dataclass
class RunResult:
    run_id: str
    run_dir: Path
    status: str
    exit_code: int
    models: list[ModelOutcome] = field(default_factory=list)
    manifest: dict = field(default_factory=dict)
    summary: dict = field(default_factory=dict)
    cache_keys: dict[str, str] = field(default_factory=dict)
    notify_problem: str | None = None

    def to_json(self) -> dict:
        return {"run_id": self.run_id, "run_dir": str(self.run_dir), "status": self.status,
                "exit_code": self.exit_code,
                "models": {m.id: {"clues": m.clues, "status": m.status, "seconds": round(m.seconds, 3),
                                  "reason": m.reason} for m in self.models}}


def _dataset_manifest(ingested: IngestResult) -> list[dict]:
    out = []
    for d in ingested.datasets:
        entry = d.to_manifest()
        entry["files"] = [{"path": f["path"], "sha256": f["sha256"], "encoding": f["encoding"],
                           "format": f["format"], "rows_read": f["rows_read"],
                           "rows_quarantined": f["rows_quarantined"], "error": f["error"]} for f in entry["files"]]
        out.append(entry)
    return out


@dataclass
class RunOptions:
    """How a run uses the machine and whom it tells (``lsm run`` / ``lsm nightly`` options)."""

    memory_limit: str | None = None  # DuckDB memory_limit, e.g. "8GB" (default: $LSM_DUCKDB_MEMORY or 4GB)
    threads: int | None = None  # DuckDB threads (default: all cores)
    temp_dir: Path | None = None  # where DuckDB spills (default: OUT/.incoming/<run_id>.spill)
    reuse: bool = True  # reuse finished models' results with the same key (model, inputs, as-of)
    notify: str | None = None  # a shell command given the summary JSON on stdin
    subset: bool = False  # only some models were selected (--model): such a run is never a baseline
    model_timeout: float | None = DEFAULT_MODEL_TIMEOUT  # seconds one model may take (None: no limit)
    spark_master: str | None = None  # --engine spark: a master URL (default: local mode)


def _outcome(plan: ModelPlan, status: str, reason: str | None = None, clues: int = 0, seconds: float = 0.0,
             reused: bool = False) -> ModelOutcome:
    return ModelOutcome(plan.model_id, plan.version, plan.fingerprint, status, reason, clues, seconds, reused,
                        plan.metadata_fingerprint)


def run_models(backend: Backend, plans: list[ModelPlan], blocked: dict[str, str], reporter,
               cache: ModelCache | None = None, keys: dict[str, str] | None = None,
               timeout: float | None = DEFAULT_MODEL_TIMEOUT) -> tuple[list[ModelOutcome], list[pa.Table]]:
    outcomes, tables = [], []
    with reporter.phase("models", "运行模型 / models", len(plans)) as phase:
        for plan in plans:
            outcome, table = _run_one(backend, plan, blocked, reporter, cache, (keys or {}).get(plan.model_id), timeout)
            outcomes.append(outcome)
            if table is not None:
                tables.append(table)
            phase.done(plan.model_id, outcome.clues)
    return outcomes, tables


def _run_one(backend: Backend, plan: ModelPlan, blocked: dict[str, str], reporter, cache: ModelCache | None,
             key: str | None, timeout: float | None) -> tuple[ModelOutcome, pa.Table | None]:
    """One model: skipped (a blocking check failed on its data), reused from the cache, failed or run."""
    reasons = [f"{d}: {blocked[d]}" for d in plan.datasets if d in blocked]
    if reasons:
        outcome = _outcome(plan, "skipped", "数据质量检查未通过 / blocking data-quality check failed — " + "; ".join(reasons))
        reporter.event("model_skipped", model=plan.model_id, reason=outcome.reason)
        return outcome, None
    start = time.perf_counter()
    hit = cache.get(plan.model_id, key) if cache is not None and key else None
    if hit is not None:
        table, backend.match_reports[plan.model_id] = hit
        reporter.event("model_reused", model=plan.model_id, clues=table.num_rows, key=key)
        return _outcome(plan, "ok", None, table.num_rows, time.perf_counter() - start, reused=True), table
    try:
        table = backend.run_model(plan, timeout)
    except ModelRunError as exc:
        reason = mask_ids(str(exc))  # DuckDB quotes offending values: they may be ID numbers
        reporter.event("model_failed", model=plan.model_id, reason=reason)
        return _outcome(plan, "failed", reason, seconds=time.perf_counter() - start), None
    seconds = time.perf_counter() - start
    if cache is not None and key:
        cache.put(plan.model_id, key, table, backend.match_reports.get(plan.model_id, {}))
    reporter.event("model_done", model=plan.model_id, clues=table.num_rows, seconds=round(seconds, 3))
    return _outcome(plan, "ok", None, table.num_rows, seconds), table


def _baseline(out_dir: Path) -> tuple[dict | None, pa.Table | None]:
    """The run tonight is compared with: the newest published *baseline* run — every model selected and
    an as-of date not older than the baseline before it. ``lsm run --model X`` or the rerun of a past
    night into the same output directory is published (and becomes ``latest``) but never moves the
    history, the file and row-count comparisons or the model cache."""
    latest = latest_run(out_dir)
    for run in reversed(run_dirs(out_dir)):
        if latest is not None and run.name > latest.name:
            continue  # renamed into place by a run killed before it could move `latest`: not trusted
        manifest = json.loads((run / "manifest.json").read_text(encoding="utf-8"))
        if manifest.get("baseline"):
            states_path = run / "clue_states.parquet"
            return manifest, (pq.read_table(states_path) if states_path.exists() else None)
    return None, None


def _spill_dir(out_dir: Path, temp_dir: Path | None, run_id: str) -> Path:
    """DuckDB's spill folder for this run. Under a shared ``--temp-dir`` each output directory has its
    own sub-folder, emptied at the start of a run (we hold the lock: what is there was left by a kill)."""
    if temp_dir is None:
        return out_dir / INCOMING / f"{run_id}.spill"  # .incoming is emptied by start_run
    own = Path(temp_dir) / f"lsm-{hashlib.sha256(str(out_dir.resolve()).encode()).hexdigest()[:10]}"
    shutil.rmtree(own, ignore_errors=True)
    return own / run_id


def execute_run(project, plans: list[ModelPlan], as_of: dt.date, engine: str = "duckdb",
                options: RunOptions | None = None) -> RunResult:
    """Run compiled plans (the caller validated the models); raises LockHeld if the lock is taken."""
    options = options or RunOptions()
    out_dir = project.out_dir
    with RunLock(out_dir):
        run_id = new_run_id()
        started = dt.datetime.now().astimezone()
        work = start_run(out_dir, run_id)
        with open(work / LOG_NAME, "a", encoding="utf-8") as log:
            reporter = TeeReporter(project.reporter, JsonLinesReporter(log))
            result = _run_in(project, plans, as_of, engine, options, run_id, started, work, reporter)
        run_dir = publish(out_dir, run_id)
        result.run_dir = run_dir
        if options.reuse and result.manifest.get("baseline"):
            ModelCache(out_dir / CACHE).keep_only(result.cache_keys)
    if options.notify:
        problem = notify(options.notify, result.summary)
        if problem:
            project.reporter.warning(problem)
        result.notify_problem = problem
    return result


def _run_in(project, plans, as_of, engine, options, run_id, started, work: Path, reporter) -> RunResult:
    out_dir = project.out_dir
    reporter.event("run_started", run_id=run_id, as_of=as_of.isoformat(), models=[p.model_id for p in plans])
    previous_manifest, previous_states = _baseline(out_dir)
    is_baseline = not options.subset and (
        previous_manifest is None or as_of >= dt.date.fromisoformat(previous_manifest["as_of"]))
    data_root = str(Path(project.data_dir).resolve())
    if previous_manifest and previous_manifest.get("data_root") != data_root:
        # Another data root: its files and row counts say nothing about tonight's (the clue history
        # still continues — it belongs to the output directory).
        reporter.warning(f"上次运行读取的是另一个数据目录 / the last run read another data root "
                         f"({previous_manifest.get('data_root')}); file changes and row-count checks start afresh")
        previous_manifest = None
    needed = sorted({d for p in plans for d in p.datasets})
    warm_up()  # great-expectations' import overlaps with the ingest
    spill = _spill_dir(out_dir, options.temp_dir, run_id)
    staging = Staging(project.staging.root, options.memory_limit, options.threads, spill / "ingest")
    ingested = project.ingest(needed, reporter=reporter, staging=staging, holding_lock=True)
    changes = file_changes(previous_manifest, ingested)
    for name, change in changes.items():
        for path in change["removed"]:
            reporter.warning(f"{name}: 上次运行的文件已不在数据目录中 / a file of the last run is gone: {path}",
                             dataset=name, file=path)
    # Row counts are compared with the last load that passed its blocking checks (a blocked night does
    # not become tomorrow's yardstick).
    previous_rows = dict((previous_manifest or {}).get("row_baselines", {}))
    spill.mkdir(parents=True, exist_ok=True)
    quality: list[QualityResult] = basic_checks(ingested) + run_expectations(
        project.catalogue, ingested, as_of, previous_rows, options.memory_limit, options.threads, spill, reporter)
    blocked: dict[str, str] = {}
    for q in quality:
        if q.blocking and not q.passed:
            blocked[q.dataset] = "; ".join(filter(None, [blocked.get(q.dataset), f"{q.check}: {q.observed}"]))
    for q in quality:
        if not q.passed:
            reporter.event("quality_failed", dataset=q.dataset, check=q.check, blocking=q.blocking, observed=q.observed)
    row_baselines = {**previous_rows, **{d.name: d.rows_accepted for d in ingested.datasets
                                         if d.staged and d.name not in blocked}}
    cache = ModelCache(out_dir / CACHE) if options.reuse else None
    keys = {p.model_id: ModelCache.key(p, ingested, as_of, project.catalogue) for p in plans
            if not any(d in blocked for d in p.datasets)}
    backend = project.backend(engine, spill / "models", options.memory_limit, options.threads, options.spark_master)
    try:
        engine_settings = backend.settings()
        reporter.event(engine, **engine_settings)
        backend.load_staged(ingested.datasets, skip=blocked)
        outcomes, tables = run_models(backend, plans, blocked, reporter, cache, keys, options.model_timeout)
        match_reports = backend.match_reports
    finally:
        backend.close()
        shutil.rmtree(spill, ignore_errors=True)
    clues = pa.concat_tables(tables) if tables else CLUE_SCHEMA.empty_table()
    clues = clues.set_column(0, "run_id", pa.array([run_id] * clues.num_rows, pa.string()))
    clues = clues.sort_by([("model_id", "ascending"), ("rule_id", "ascending"), ("rank", "ascending")])
    completed = {o.id for o in outcomes if o.status == "ok"}
    states = next_states(previous_states, clues, run_id, completed)
    lifecycle = {m: c for m, c in state_counts(states).items() if m in completed}
    failed = [o for o in outcomes if o.status == "failed"]
    skipped = [o for o in outcomes if o.status == "skipped"]
    status = "ok" if not failed and not skipped else "partial"
    exit_code = EXIT_MODEL_FAILED if failed else EXIT_QUALITY if skipped else EXIT_OK
    manifest = {
        "schema_version": SCHEMA_VERSION, "run_id": run_id, "as_of": as_of.isoformat(),
        "engine_version": __version__, "engine": engine,
        "started_at": started.isoformat(timespec="seconds"),
        "finished_at": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "status": status, "data_root": data_root, "models_dir": str(project.models_dir),
        "baseline": is_baseline, "previous_run": (previous_manifest or {}).get("run_id"),
        "row_baselines": row_baselines,
        engine: engine_settings,
        "models": [asdict(o) for o in outcomes],
        "datasets": _dataset_manifest(ingested),
        "quality": [asdict(q) for q in quality],
        "file_changes": changes,
        "lifecycle": lifecycle,
        "matches": [{"model": model, "relation": relation, **funnel}
                    for model, relations in match_reports.items() for relation, funnel in relations.items()],
    }
    write_clue_files(clues, ingested.quarantine_table(), work, [
        {"id": p.model_id, "title": p.title_zh, "legal_basis": p.legal_citation,
         "status": next(o.status for o in outcomes if o.id == p.model_id)} for p in plans])
    atomic_parquet(states, work / "clue_states.parquet")
    tonight = states.filter(pc.is_in(states["clue_id"], value_set=clues["clue_id"].combine_chunks()))
    present = dict(zip(tonight["clue_id"].to_pylist(), tonight["state"].to_pylist(), strict=True))
    render_report(clues, manifest, {p.model_id: p for p in plans}, work / "report.html", present)
    render_quality_html(quality, run_id, as_of, work / "quality.html",
                        {d.name: d.title for d in project.catalogue.datasets})
    atomic_write_bytes(work / "manifest.json", json.dumps(manifest, ensure_ascii=False, indent=1).encode())
    summary = build_summary(manifest, lifecycle, changes, out_dir / run_id, exit_code)
    atomic_write_bytes(work / "summary.json", json.dumps(summary, ensure_ascii=False, indent=1).encode())
    reporter.event("run_finished", run_id=run_id, status=status, exit_code=exit_code, clues=clues.num_rows)
    used = {p.model_id: keys[p.model_id] for p in plans if p.model_id in keys and p.model_id in completed}
    return RunResult(run_id, work, status, exit_code, outcomes, manifest, summary, used)

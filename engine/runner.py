"""One run: validate → lock → ingest → quality gates → models → outputs → publish.

The facade's ``run`` calls :func:`execute_run`. Exit codes follow CONTRACT.md:
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
import json
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pyarrow as pa

from engine import __version__
from engine.execute.duckdb_backend import CLUE_SCHEMA, DuckDBBackend, ModelRunError
from engine.ingest import IngestResult
from engine.plan import ModelPlan
from engine.quality import QualityResult, basic_checks
from engine.report.html import render_report
from engine.report.outputs import atomic_write_bytes, write_clue_files
from engine.runs import INCOMING, RunLock, new_run_id, publish, start_run

SCHEMA_VERSION = 1
EXIT_OK, EXIT_MODEL_FAILED, EXIT_USAGE, EXIT_QUALITY, EXIT_LOCKED = 0, 1, 2, 3, 4


@dataclass
class ModelOutcome:
    id: str
    version: str
    fingerprint: str
    status: str  # ok | failed | skipped
    reason: str | None = None
    clues: int = 0
    seconds: float = 0.0


@dataclass
class RunResult:
    run_id: str
    run_dir: Path
    status: str
    exit_code: int
    models: list[ModelOutcome] = field(default_factory=list)
    manifest: dict = field(default_factory=dict)

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


def run_models(backend: DuckDBBackend, plans: list[ModelPlan], blocked: dict[str, str], reporter
               ) -> tuple[list[ModelOutcome], list[pa.Table]]:
    outcomes, tables = [], []
    for plan in plans:
        reasons = [f"{d}: {blocked[d]}" for d in plan.datasets if d in blocked]
        if reasons:
            outcomes.append(ModelOutcome(plan.model_id, plan.version, plan.fingerprint, "skipped",
                                         "数据质量检查未通过 / blocking data-quality check failed — " + "; ".join(reasons)))
            reporter.event("model_skipped", model=plan.model_id, reason=outcomes[-1].reason)
            continue
        start = time.perf_counter()
        try:
            table = backend.run_model(plan)
        except ModelRunError as exc:
            outcomes.append(ModelOutcome(plan.model_id, plan.version, plan.fingerprint, "failed", str(exc),
                                         seconds=time.perf_counter() - start))
            reporter.event("model_failed", model=plan.model_id, reason=str(exc))
            continue
        seconds = time.perf_counter() - start
        outcomes.append(ModelOutcome(plan.model_id, plan.version, plan.fingerprint, "ok", None, table.num_rows,
                                     seconds))
        tables.append(table)
        reporter.event("model_done", model=plan.model_id, clues=table.num_rows, seconds=round(seconds, 3))
    return outcomes, tables


def execute_run(project, plans: list[ModelPlan], as_of: dt.date, engine: str = "duckdb") -> RunResult:
    """Run compiled plans (the caller validated the models); raises LockHeld if the lock is taken."""
    reporter = project.reporter
    out_dir = project.out_dir
    with RunLock(out_dir):
        run_id = new_run_id()
        started = dt.datetime.now().astimezone()
        work = start_run(out_dir, run_id)
        reporter.event("run_started", run_id=run_id, as_of=as_of.isoformat(), models=[p.model_id for p in plans])
        needed = sorted({d for p in plans for d in p.datasets})
        ingested = project.ingest(needed)
        quality: list[QualityResult] = basic_checks(ingested)
        blocked = {q.dataset: q.observed for q in quality if q.blocking and not q.passed}
        spill = out_dir / INCOMING / f"{run_id}.spill"  # DuckDB's temp files, outside the run directory
        backend = project.backend(engine, spill)
        try:
            for d in ingested.datasets:
                if d.name not in blocked and d.staged:
                    backend.load_dataset(d.name, Path(d.staged))
            outcomes, tables = run_models(backend, plans, blocked, reporter)
        finally:
            backend.close()
            shutil.rmtree(spill, ignore_errors=True)
        clues = pa.concat_tables(tables) if tables else CLUE_SCHEMA.empty_table()
        clues = clues.set_column(0, "run_id", pa.array([run_id] * clues.num_rows, pa.string()))
        clues = clues.sort_by([("model_id", "ascending"), ("rule_id", "ascending"), ("rank", "ascending")])
        failed = [o for o in outcomes if o.status == "failed"]
        skipped = [o for o in outcomes if o.status == "skipped"]
        status = "ok" if not failed and not skipped else "partial"
        manifest = {
            "schema_version": SCHEMA_VERSION, "run_id": run_id, "as_of": as_of.isoformat(),
            "engine_version": __version__, "engine": engine,
            "started_at": started.isoformat(timespec="seconds"),
            "finished_at": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
            "status": status, "data_root": str(project.data_dir), "models_dir": str(project.models_dir),
            "models": [asdict(o) for o in outcomes],
            "datasets": _dataset_manifest(ingested),
            "quality": [asdict(q) for q in quality],
            "matches": [{"model": model, "relation": relation, **funnel}
                        for model, relations in backend.match_reports.items()
                        for relation, funnel in relations.items()],
        }
        write_clue_files(clues, ingested.quarantine_table(), work, [
            {"id": p.model_id, "title": p.title_zh, "legal_basis": p.legal_citation,
             "status": next(o.status for o in outcomes if o.id == p.model_id)} for p in plans])
        render_report(clues, manifest, {p.model_id: p for p in plans}, work / "report.html")
        atomic_write_bytes(work / "manifest.json", json.dumps(manifest, ensure_ascii=False, indent=1).encode())
        run_dir = publish(out_dir, run_id)
        exit_code = EXIT_MODEL_FAILED if failed else EXIT_QUALITY if skipped else EXIT_OK
        reporter.event("run_finished", run_id=run_id, status=status, exit_code=exit_code, clues=clues.num_rows)
        return RunResult(run_id, run_dir, status, exit_code, outcomes, manifest)

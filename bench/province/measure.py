"""Timing children from a small parent, the machine, and the phases of a nightly run.

``timed_child`` runs one command and returns its wall seconds and its own peak resident memory from
``os.wait4`` — the parent must stay small, because on Linux a forked child's ``ru_maxrss`` starts
from the parent's RSS. ``phases`` reads a run's JSON-lines log (event timestamps) and splits the night
into start-up, ingest, quality gates, model phase (loading the staged tables + the ten models),
outputs and shutdown.

Example::

    child = timed_child(["sleep", "1"], log_dir)
    child.seconds, child.peak_rss_mb
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl


@dataclass
class Child:
    seconds: float
    peak_rss_mb: float
    returncode: int
    stdout: str
    stderr: str
    started: float  # wall clock (time.time()) when the child was started

    def json(self) -> dict:
        return json.loads(self.stdout.strip().splitlines()[-1])


def timed_child(argv: list[str], log_dir: Path, name: str, cwd: Path | None = None,
                env: dict[str, str] | None = None) -> Child:
    log_dir.mkdir(parents=True, exist_ok=True)
    out_path, err_path = log_dir / f"{name}.out", log_dir / f"{name}.err"
    with open(out_path, "w") as out, open(err_path, "w") as err:
        started, start = time.time(), time.perf_counter()
        proc = subprocess.Popen(argv, stdout=out, stderr=err, cwd=cwd, env={**os.environ, **(env or {})})
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
    return Child(seconds, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status), out_path.read_text(),
                 err_path.read_text()[-4000:], started)


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _memory_gib() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                return round(int(line.split()[1]) / 2**20, 1)
    except OSError:
        pass
    return 0.0


def machine() -> dict:
    return {"cpu": _cpu_model(), "cores": os.cpu_count(), "memory_gib": _memory_gib(),
            "os": f"{platform.system()} {platform.release()}", "python": platform.python_version(),
            "duckdb": duckdb.__version__, "polars": pl.__version__, "load_average_start": load_average()}


def _events(run_dir: Path) -> list[dict]:
    lines = (run_dir / "log.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def phases(run_dir: Path, child: Child) -> dict:
    """Seconds per phase of a nightly, from its log's event timestamps and the child's wall time."""
    events = _events(run_dir)

    def at(event: dict) -> float:
        return dt.datetime.fromisoformat(event["ts"]).timestamp()

    def last(*names: str) -> float:
        return max(at(e) for e in events if e["event"] in names)

    started = min(at(e) for e in events if e["event"] == "run_started")
    ingested = last("dataset_ingested")
    duckdb_ready = last("duckdb")
    models_done = last("model_done", "model_reused", "model_failed", "model_skipped")
    finished = last("run_finished")
    model_seconds = sum(e.get("seconds", 0) for e in events if e["event"] == "model_done")
    out = {"startup": started - child.started, "ingest": ingested - started, "quality": duckdb_ready - ingested,
           "load_tables": models_done - duckdb_ready - model_seconds, "models": model_seconds,
           "outputs": finished - models_done, "shutdown": child.started + child.seconds - finished}
    return {name: round(seconds, 2) for name, seconds in out.items()}

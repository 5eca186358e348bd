"""Timing children from a small parent, the machine, and the phases of a nightly run.

``timed_child`` runs one command and returns its wall seconds and its own peak resident memory from
``os.wait4`` — the parent must stay small, because on Linux a forked child's ``ru_maxrss`` starts
from the parent's RSS. A child whose resident memory passes ``rss_cap_mb`` is killed (and says so)
before the machine runs out of memory: other people's processes share it. ``phases`` reads a run's JSON-lines log (event timestamps) and splits the night
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
    killed_for_memory: bool = False

    def json(self) -> dict:
        return json.loads(self.stdout.strip().splitlines()[-1])


def _rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def timed_child(argv: list[str], log_dir: Path, name: str, cwd: Path | None = None,
                env: dict[str, str] | None = None, rss_cap_mb: float | None = None) -> Child:
    log_dir.mkdir(parents=True, exist_ok=True)
    out_path, err_path = log_dir / f"{name}.out", log_dir / f"{name}.err"
    killed = False
    with open(out_path, "w") as out, open(err_path, "w") as err:
        started, start = time.time(), time.perf_counter()
        proc = subprocess.Popen(argv, stdout=out, stderr=err, cwd=cwd, env={**os.environ, **(env or {})})
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if rss_cap_mb and not killed and _rss_mb(proc.pid) > rss_cap_mb:
                proc.kill()
                killed = True
            time.sleep(0.2)
        seconds = time.perf_counter() - start
    return Child(seconds, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status), out_path.read_text(),
                 err_path.read_text()[-4000:], started, killed)


def memory_cap_mb(headroom_gib: float = 3.0) -> float:
    """The RSS past which a child is stopped: the machine's memory less some headroom for others."""
    return (_memory_gib() - headroom_gib) * 1024


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


def _events(log: Path) -> list[dict]:
    lines = log.read_text(encoding="utf-8").splitlines() if log.exists() else []
    return [json.loads(line) for line in lines if line.strip()]


def night_log(out_dir: Path) -> Path:
    """The JSON-lines log of the night in ``out_dir``: published, or still in .incoming (a killed night)."""
    latest = out_dir / "latest" / "log.jsonl"
    return latest if latest.exists() else max((out_dir / ".incoming").glob("*/log.jsonl"), default=latest)


def phases(log: Path, child: Child) -> dict:
    """Seconds per phase of a nightly, from its log's event timestamps and the child's wall time; a phase
    the night never finished is counted up to the end of the child (and the later ones are absent)."""
    events = _events(log)
    end = child.started + child.seconds

    def at(event: dict) -> float:
        return dt.datetime.fromisoformat(event["ts"]).timestamp()

    def last(*names: str) -> float | None:
        times = [at(e) for e in events if e["event"] in names]
        return max(times) if times else None

    marks = [("startup", last("run_started")), ("ingest", last("dataset_ingested")), ("quality", last("duckdb")),
             ("models", last("model_done", "model_reused", "model_failed", "model_skipped")),
             ("outputs", last("run_finished")), ("shutdown", end)]
    out, previous = {}, child.started
    for name, mark in marks:
        out[name] = round((mark or end) - previous, 2)
        if mark is None:
            break
        previous = mark
    model_seconds = sum(e.get("seconds", 0) for e in events if e["event"] == "model_done")
    if "outputs" in out:  # the model phase also loads the staged tables into DuckDB
        out["load_tables"] = round(out["models"] - model_seconds, 2)
        out["models"] = round(model_seconds, 2)
    return out

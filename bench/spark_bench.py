"""DuckDB vs Spark (local mode) on the same models and the same staged data, in one run.

Generates a sample data root (``--scale`` background people; the planted cases are the same), stages
it once, then runs all ten models on each backend in this process and reports per model the seconds
on each and the ratio, with Spark's start-up counted apart. Both backends must give the same clues
(checked here too). Writes ``bench/results/spark.json``.

    .venv/bin/python bench/spark_bench.py [--scale 2000] [--threads 2]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import tempfile
import time
from pathlib import Path

from engine.execute.duckdb_backend import DuckDBBackend
from engine.execute.spark_backend import SparkBackend
from engine.project import Project
from sample_data.generate import AS_OF, generate

RESULTS = Path(__file__).parent / "results" / "spark.json"


def _clue_set(table) -> set[tuple]:
    return {(r["clue_id"], str(r["amount"]), r["rank"]) for r in table.select(["clue_id", "amount", "rank"]).to_pylist()}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="lsm-spark-bench-") as tmp:
        root = Path(tmp)
        generate(root / "data", scale=args.scale)
        project = Project(data_dir=root / "data", out_dir=root / "out")
        plans = project.compile(AS_OF, engine="spark")
        ingested = project.ingest(sorted({d for p in plans for d in p.datasets}))
        rows = sum(d.rows_accepted for d in ingested.datasets)
        started = time.perf_counter()
        spark = SparkBackend.start(None, root / "spark", threads=args.threads)
        spark_start = time.perf_counter() - started
        duck = DuckDBBackend.in_memory(root / "duckdb", threads=args.threads)
        for backend in (duck, spark):
            for d in ingested.datasets:
                if d.staged:
                    backend.load_dataset(d.name, Path(d.staged))
        models, same = {}, True
        for plan in plans:
            timings = {}
            results = {}
            for backend in (duck, spark):
                start = time.perf_counter()
                results[backend.name] = backend.run_model(plan)
                timings[backend.name] = round(time.perf_counter() - start, 3)
            same = same and _clue_set(results["duckdb"]) == _clue_set(results["spark"])
            models[plan.model_id] = {"duckdb_s": timings["duckdb"], "spark_s": timings["spark"],
                                     "ratio": round(timings["spark"] / max(timings["duckdb"], 1e-3), 1),
                                     "clues": results["duckdb"].num_rows}
        total = {k: round(sum(m[k] for m in models.values()), 2) for k in ("duckdb_s", "spark_s")}
        payload = {"date": dt.date.today().isoformat(), "machine": f"{platform.machine()}, {os.cpu_count()} cores",
                   "load_average": os.getloadavg()[0], "scale": args.scale, "staged_rows": rows,
                   "threads": args.threads, "spark_start_s": round(spark_start, 1), "same_clues": same,
                   "total": {**total, "ratio": round(total["spark_s"] / max(total["duckdb_s"], 1e-3), 1)},
                   "models": models}
    RESULTS.write_text(json.dumps(payload, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(payload, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()

"""Data-quality gates: evaluated in DuckDB (the engine) vs great-expectations' pandas engine (before E8).

Stages the ingest benchmark's generated 低保 payments (``bench/ingest_bench.py``, ``--rows``), then in
one run times the dataset's declared checks (the catalogue's ``quality:`` block)

* as the engine runs them: GX expectations evaluated in DuckDB (``engine.quality.expectations``);
* the baseline: the same GX suite validated by GX's pandas execution engine over a pandas frame of the
  needed columns (how the engine did it before), frame loading included;

and checks that both reach the same verdict for every expectation. Writes ``bench/results/quality.json``.

    .venv/bin/python bench/quality_bench.py --rows 2000000
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import polars as pl

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from ingest_bench import generate  # noqa: E402

from engine.project import Project  # noqa: E402
from engine.quality import expectations as q  # noqa: E402

OUT = REPO / "bench" / "out" / "quality"
RESULTS = REPO / "bench" / "results" / "quality.json"
AS_OF = dt.date(2024, 12, 31)
DATASET = "dibao_payments"


def gx_pandas_verdicts(catalogue, ingested) -> tuple[float, list[bool]]:
    """Seconds and per-expectation success of GX's own pandas engine on the same suite."""
    gx = q._gx()
    from great_expectations.data_context.types.base import (  # noqa: PLC0415 - after q._gx() sets analytics off
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    start = time.perf_counter()
    dataset, staged = catalogue.dataset(DATASET), ingested.dataset(DATASET)
    frame = pl.read_parquet(staged.staged, columns=q._needed_columns(dataset))
    flags = {c.column for c in dataset.quality if c.check == "valid_id_rate"}  # id_cn columns in this dataset
    frame = frame.with_columns([pl.when(pl.col(c).is_not_null()).then(pl.col(f"{c}_valid")).otherwise(None)
                                .alias(q._valid_flag(c)) for c in flags]).to_pandas()
    plans = [q._plan(gx, dataset, check, AS_OF, len(frame), None) for check in dataset.quality]
    expectations = [e for p in plans for e in p.expectations]
    for i, expectation in enumerate(expectations):  # GX reports in its own order
        expectation.meta = {**(expectation.meta or {}), "bench_index": i}
    config = DataContextConfig(store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
                               analytics_enabled=False,
                               progress_bars=ProgressBarsConfig(globally=False, metric_calculations=False))
    context = gx.get_context(mode="ephemeral", project_config=config)
    batch = (context.data_sources.add_pandas("bench").add_dataframe_asset(DATASET)
             .add_batch_definition_whole_dataframe("staged").get_batch(batch_parameters={"dataframe": frame}))
    validation = batch.validate(gx.ExpectationSuite(name="bench", expectations=expectations),
                                result_format={"result_format": "SUMMARY", "partial_unexpected_count": 20})
    seconds = time.perf_counter() - start
    ordered = sorted(validation.results, key=lambda r: r.expectation_config.meta["bench_index"])
    return seconds, [r.success for r in ordered]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=2_000_000)
    args = parser.parse_args()
    subprocess.run([sys.executable, str(REPO / "bench" / "ingest_bench.py"), "--rows", str(args.rows),
                    "--generate-only"], check=True)
    root = generate(args.rows).parent
    project = Project(data_dir=root, out_dir=OUT / f"runs-{args.rows}")
    ingested = project.ingest([DATASET])
    catalogue = project.catalogue
    q._gx()  # the import is paid once, outside both measurements
    subset = type(ingested)(ingested.data_root, [ingested.dataset(DATASET)])
    start = time.perf_counter()
    results = q.run_expectations(catalogue, subset, AS_OF)
    engine_s = time.perf_counter() - start
    baseline_s, verdicts = gx_pandas_verdicts(catalogue, ingested)
    dataset = catalogue.dataset(DATASET)
    plans = [q._plan(q._gx(), dataset, c, AS_OF, 1, None) for c in dataset.quality]
    per_check = []
    i = 0
    for plan in plans:  # a check passes when all its expectations do
        per_check.append(all(verdicts[i:i + len(plan.expectations)]))
        i += len(plan.expectations)
    same = [r.passed for r in results] == per_check
    assert same, f"verdicts differ: engine {[r.passed for r in results]} vs GX pandas {per_check}"
    result = {
        "benchmark": "data-quality checks of dibao_payments: DuckDB evaluation vs GX pandas engine",
        "command": f".venv/bin/python bench/quality_bench.py --rows {args.rows}",
        "rows": ingested.dataset(DATASET).rows_accepted, "checks": len(results),
        "engine_seconds": round(engine_s, 2), "gx_pandas_seconds": round(baseline_s, 2),
        "speedup": round(baseline_s / engine_s, 1), "same_verdicts": same,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores", "load_average": os.getloadavg()[0],
    }
    RESULTS.write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(result, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()

"""The measurements that run in their own process (so the harness's parent stays small), one JSON line out.

* ``scan`` — the machine's Parquet scan bound: DuckDB decoding every column of every input file
  (``count(*)`` plus a hash of each column, so no column can be skipped), and ``count(*)`` alone;
* ``bandwidth`` — memory bandwidth: the best of five numpy copies of a 1 GiB array;
* ``baselines`` — the ten hand-written queries over a run's staged tables, each timed and compared
  with the engine's clues (subjects and amounts);
* ``pandas`` — M01–M04 in pandas over the same staged tables, timed and compared likewise.

    .venv/bin/python -m bench.province.tasks scan --data bench/out/province/s1-seed20240630/parquet
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from decimal import Decimal
from pathlib import Path

import duckdb
import numpy as np
import pyarrow.parquet as pq

from bench.province.baselines import BASELINES, connect_with_ratio, load_staged
from bench.province.pandas_models import MODELS as PANDAS_MODELS
from bench.province.pandas_models import load as load_frames
from engine.spec.catalog import load_catalogue
from sample_data.generate import REPO


def _files(data: Path, dataset: str) -> list[str]:
    single = data / f"{dataset}.parquet"
    return [str(single)] if single.exists() else sorted(str(p) for p in (data / dataset).glob("*.parquet"))


def scan(data: Path, threads: int) -> dict:
    """Seconds for DuckDB to decode all Parquet inputs (every column), and for count(*) alone."""
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    con.execute("SET threads = $t", {"t": threads})
    catalogue = load_catalogue(REPO / "models" / "sources.yaml")
    rows = 0
    decode = count = 0.0
    for dataset in catalogue.datasets:
        files = _files(data, dataset.name)
        start = time.perf_counter()
        rows += con.execute("SELECT count(*) FROM read_parquet($f, union_by_name = true)", {"f": files}).fetchone()[0]
        count += time.perf_counter() - start
        start = time.perf_counter()
        con.execute("SELECT count(*), bit_xor(hash(COLUMNS(*))) FROM read_parquet($f, union_by_name = true)",
                    {"f": files}).fetchall()
        decode += time.perf_counter() - start
    return {"rows": rows, "decode_all_columns_seconds": round(decode, 2), "count_star_seconds": round(count, 3),
            "threads": threads}


def bandwidth() -> dict:
    source = np.ones(1 << 27, dtype=np.float64)  # 1 GiB
    target = np.empty_like(source)
    best = min(_timed(lambda: np.copyto(target, source)) for _ in range(5))
    return {"copy_gib": 1, "seconds": round(best, 4), "gb_per_s": round(2 * source.nbytes / best / 1e9, 1),
            "note": "bytes read + written per second by one numpy copy (single thread)"}


def _timed(action) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def engine_clues(run_dir: Path) -> dict[str, set[tuple]]:
    """model → {(rule_id, subject_id, amount as text or None)} from a run's clues.parquet."""
    out: dict[str, set[tuple]] = {}
    table = pq.read_table(run_dir / "clues.parquet", columns=["model_id", "rule_id", "subject_id", "amount"])
    for row in table.to_pylist():
        out.setdefault(row["model_id"], set()).add((row["rule_id"], row["subject_id"], _amount(row["amount"])))
    return out


def _amount(value) -> str | None:
    return None if value is None else f"{Decimal(str(value)):.2f}"


def baselines(run_dir: Path, staging: Path, memory_limit: str, threads: int, temp: Path, repeat: int) -> dict:
    expected = engine_clues(run_dir)
    con = connect_with_ratio(temp, memory_limit, threads)
    names = sorted(p.name.removesuffix(".parquet") for p in staging.glob("*.parquet") if "quarantine" not in p.name)
    start = time.perf_counter()
    load_staged(con, staging, names)
    out = {"_load_seconds": round(time.perf_counter() - start, 2)}
    for model, query in BASELINES.items():
        times, rows = [], None
        for _ in range(repeat):
            start = time.perf_counter()
            rows = con.sql(query).fetchall()
            times.append(time.perf_counter() - start)
        found = {(rule, subject, _amount(amount)) for rule, subject, amount in rows}
        want = expected.get(model, set())
        out[model] = {"baseline_s": round(statistics.median(times), 3), "runs": [round(t, 3) for t in times],
                      "clues": len(found), "engine_clues": len(want), "same": found == want,
                      "missing": sorted(map(str, want - found))[:5], "extra": sorted(map(str, found - want))[:5]}
    return out


def pandas_models(run_dir: Path, staging: Path) -> dict:
    expected = engine_clues(run_dir)
    start = time.perf_counter()
    frames = load_frames(staging)
    out = {"_load_seconds": round(time.perf_counter() - start, 2),
           "_rows": {name: len(frame) for name, frame in frames.items()}}
    for model, compute in PANDAS_MODELS.items():
        start = time.perf_counter()
        amounts = compute(frames)
        seconds = time.perf_counter() - start
        found = {("default", subject, f"{amount:.2f}") for subject, amount in amounts.items()}
        out[model] = {"pandas_s": round(seconds, 3), "clues": len(found), "same": found == expected.get(model, set())}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="task", required=True)
    p = sub.add_parser("scan")
    p.add_argument("--data", type=Path, required=True)
    p.add_argument("--threads", type=int, default=2)
    sub.add_parser("bandwidth")
    for name in ("baselines", "pandas"):
        p = sub.add_parser(name)
        p.add_argument("--run", type=Path, required=True)
        p.add_argument("--staging", type=Path, required=True)
        if name == "baselines":
            p.add_argument("--memory-limit", required=True)
            p.add_argument("--threads", type=int, required=True)
            p.add_argument("--temp", type=Path, required=True)
            p.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    if args.task == "scan":
        result = scan(args.data, args.threads)
    elif args.task == "bandwidth":
        result = bandwidth()
    elif args.task == "baselines":
        result = baselines(args.run, args.staging, args.memory_limit, args.threads, args.temp, args.repeat)
    else:
        result = pandas_models(args.run, args.staging)
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()

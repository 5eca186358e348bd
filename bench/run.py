"""Province-scale benchmark (E8): the whole nightly near the machine's limit, against baselines, one run.

Generates (once; cached under bench/out/province/) a data root of scale S — S = 1 ≈ 100 million rows
across the 17 datasets, with planted truth — then measures, in this one run: the machine's Parquet scan
bound and memory bandwidth; ``lsm nightly`` end to end (wall time, peak RSS, phases) and its truth;
every model against its hand-written DuckDB query over the same staged tables; M01–M04 against
pandas; CSV ingest rows/s (UTF-8, GB18030) against DuckDB reading the file as text; and scale 3 under
``--memory-limit 8GB``. Writes ``scale.json`` (CONTRACT.md's keys) and ``scale-details.json`` to
``--out`` (default bench/results/), and, when writing there, the tables of docs/performance.md.

    .venv/bin/python bench/run.py --scale 1                # make bench
    .venv/bin/python bench/run.py --scale 0.001 --out /tmp/bench --skip-spill
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.province.generate import OUT, SEED  # noqa: E402
from bench.province.harness import RESULTS, BenchError, Options, run, run_spill_only  # noqa: E402
from bench.province.report import update_docs  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, required=True, help="1 ≈ 100 million input rows")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where scale.json goes (default bench/results/)")
    parser.add_argument("--skip-spill", action="store_true", help="skip the scale-3 run under --memory-limit 8GB")
    parser.add_argument("--keep-data", action="store_true",
                        help="keep the nights' output directories (staging, runs, logs) under bench/out/")
    parser.add_argument("--work", type=Path, default=OUT, help="generated data (cached) and run outputs")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--pandas-scale", type=float, default=0.1, help="scale of the pandas comparison")
    parser.add_argument("--spill-only", action="store_true",
                        help="run only the spill night and merge it into the scale.json already under --out")
    parser.add_argument("--spill-scale", type=float, default=3.0)
    parser.add_argument("--spill-memory-limit", default="8GB")
    parser.add_argument("--memory-limit", help="the nightly's --memory-limit (default: the engine's default)")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each hand-written query (median)")
    parser.add_argument("--rss-cap-mb", type=float,
                        help="stop a night past this resident memory (default: the machine's memory less 3 GiB)")
    args = parser.parse_args()
    opts = Options(scale=args.scale, out=args.out, work=args.work, seed=args.seed, skip_spill=args.skip_spill,
                   keep_data=args.keep_data, pandas_scale=args.pandas_scale, spill_scale=args.spill_scale,
                   spill_memory_limit=args.spill_memory_limit, memory_limit=args.memory_limit, repeat=args.repeat,
                   rss_cap_mb=args.rss_cap_mb)
    try:
        results, details = run_spill_only(opts) if args.spill_only else run(opts)
    except BenchError as exc:
        raise SystemExit(f"bench/run.py: {exc}") from exc
    if args.out.resolve() == RESULTS.resolve():
        update_docs(REPO / "docs" / "performance.md", results, details)
    print(json.dumps(results, ensure_ascii=False, indent=2))
    if not results["truth_ok"]:
        raise SystemExit("bench/run.py: the results do not match the planted truth (see scale-details.json)")


if __name__ == "__main__":
    main()

"""Where the time goes: the engine's model steps over a night's staged tables, and a py-spy profile.

* ``models`` — loads a night's staged tables into the engine's DuckDB backend (as the nightly does),
  runs each compiled model step by step and reports every step's seconds; for each of the slowest
  steps, DuckDB's own profile (the ``EXPLAIN ANALYZE`` operator tree as JSON): the operators that
  took the time, with their row counts.
* ``flame`` — summarises a py-spy ``--format raw`` recording (collapsed stacks) of a whole night: the
  share of samples under each function (inclusive), for the engine's and the libraries' frames.

    .venv/bin/python -m bench.province.profile models --staging OUT/staging/datasets --model wage_deposit
    py-spy record --format raw -o night.txt -- .venv/bin/lsm nightly --data DIR --out OUT --as-of 2024-06-30
    .venv/bin/python -m bench.province.profile flame night.txt
"""

from __future__ import annotations

import argparse
import json
import re
import tempfile
import time
from collections import Counter
from pathlib import Path

from engine.compile.model import compile_model
from engine.execute.duckdb_backend import DuckDBBackend
from engine.spec.catalog import load_catalogue
from engine.spec.load import load_models
from sample_data.generate import AS_OF, REPO

TOP_STEPS = 3
TOP_OPERATORS = 6


def _operators(nodes: list[dict], out: list) -> list:
    """(operator, seconds, rows out, a hint) of every node of a DuckDB JSON profile (DuckDB ≥ 1.2 layout)."""
    for node in nodes:
        info = node.get("extra_info") or {}
        hint = info.get("Conditions") or info.get("Join Type") or info.get("Function") or info.get("Table") or ""
        out.append((node.get("type", "?"), round(node.get("timing", 0.0), 3), node.get("intermediate_rows", 0),
                    str(hint)[:120]))
        _operators(node.get("children", []), out)
    return out


def profile_models(staging: Path, models: list[str] | None, memory_limit: str | None, threads: int | None) -> dict:
    catalogue = load_catalogue(REPO / "models" / "sources.yaml")
    loaded = [m for m in load_models(REPO / "models").models if not models or m.spec.id in models]
    with tempfile.TemporaryDirectory() as temp:
        backend = DuckDBBackend.in_memory(Path(temp) / "spill", memory_limit, threads)
        datasets = sorted({d for m in loaded for d in compile_model(m, catalogue, AS_OF).datasets})
        start = time.perf_counter()
        for name in datasets:
            backend.load_dataset(name, staging / f"{name}.parquet")
        out: dict = {"_load_seconds": round(time.perf_counter() - start, 2)}
        profile_file = Path(temp) / "profile.json"
        backend.con.execute("SET enable_profiling = 'json'")
        backend.con.execute("SET profiling_output = $p", {"p": str(profile_file)})
        for model in loaded:
            plan = compile_model(model, catalogue, AS_OF)
            steps, funnels = [], {}
            for step in plan.steps:
                profile_file.unlink(missing_ok=True)
                start = time.perf_counter()
                backend.run_step(step, funnels)
                seconds = time.perf_counter() - start
                profiled = json.loads(profile_file.read_text()) if profile_file.exists() else {}
                operators = _operators(profiled.get("operator", []), [])
                steps.append({"step": step.name, "kind": step.kind, "view": getattr(step, "view", False),
                              "seconds": round(seconds, 3),
                              "operators": sorted(operators, key=lambda o: -o[1])[:TOP_OPERATORS]})
            slowest = sorted(steps, key=lambda s: -s["seconds"])
            out[plan.model_id] = {"seconds": round(sum(s["seconds"] for s in steps), 2), "steps": len(steps),
                                  "slowest": slowest[:TOP_STEPS]}
        backend.close()
    return out


FRAME = re.compile(r"^(?P<function>[^ ]+) \((?P<file>[^:]+)(?::\d+)?\)$")


def flame(raw: Path, top: int = 40) -> dict:
    """Inclusive share of samples per function (``module:function``) of a py-spy raw recording."""
    inclusive: Counter = Counter()
    total = 0
    for line in raw.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        samples = int(count)
        total += samples
        seen = set()
        for frame in stack.split(";"):
            match = FRAME.match(frame.strip())
            if not match:
                continue
            file = match["file"]
            module = file.split("site-packages/")[-1] if "site-packages/" in file else file.split("wt-e8/")[-1]
            key = f"{module.removesuffix('.py')}:{match['function']}"
            if key not in seen:
                seen.add(key)
                inclusive[key] += samples
    return {"samples": total, "top": [(key, round(n / total, 3)) for key, n in inclusive.most_common(top)]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="task", required=True)
    p = sub.add_parser("models")
    p.add_argument("--staging", type=Path, required=True)
    p.add_argument("--model", action="append")
    p.add_argument("--memory-limit")
    p.add_argument("--threads", type=int)
    p = sub.add_parser("flame")
    p.add_argument("raw", type=Path)
    p.add_argument("--top", type=int, default=40)
    args = parser.parse_args()
    if args.task == "models":
        result = profile_models(args.staging, args.model, args.memory_limit, args.threads)
    else:
        result = flame(args.raw, args.top)
    print(json.dumps(result, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()

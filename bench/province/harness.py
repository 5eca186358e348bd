"""The province-scale benchmark, one measurement after another, every ratio from the same run.

1. generate (or reuse) the data root of scale S (a child process);
2. the machine's limits: Parquet scan bound (DuckDB decoding every input column) and memory bandwidth;
3. the whole nightly — ``lsm nightly`` from a fresh output directory — wall time, peak RSS, phases;
4. the truth check of that night (every model and rule, every dataset's accounting);
5. per model: the engine's seconds (manifest) vs its hand-written DuckDB query over the same staged
   tables, with the same memory limit and threads (asserted equal subjects and amounts);
6. M01–M04: engine vs pandas at a scale where pandas still fits (a second night at that scale);
7. CSV ingest rows/s (UTF-8, GB18030) with ``lsm ingest`` vs DuckDB reading the UTF-8 file as text;
8. scale 3 under ``--memory-limit 8GB``: the night must finish by spilling, with a correct result.

``scale.json`` holds exactly the contract's keys (CONTRACT.md → Province-scale benchmark);
``scale-details.json`` next to it holds everything else (commands, phases, load averages, every
baseline's runs, where the figures come from).

Example::

    results, details = run(Options(scale=0.001, out=Path("/tmp/bench"), skip_spill=True))
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

from bench.province.generate import OUT, SEED, cached, root_for
from bench.province.measure import Child, load_average, machine, memory_cap_mb, night_log, phases, timed_child
from bench.province.timeline import AS_OF
from bench.province.truthcheck import check_run
from sample_data.generate import REPO

PYTHON = sys.executable
LSM = str(Path(sys.executable).parent / "lsm")
RESULTS = REPO / "bench" / "results"
PANDAS_MODELS = ("prisoner_dibao", "prisoner_pension", "deceased_pension", "deceased_dibao")
LEDGERS = ("pension_payments", "dibao_payments")


class BenchError(RuntimeError):
    """A step of the benchmark failed (its message says which and why)."""


@dataclass
class Options:
    scale: float
    out: Path = RESULTS
    work: Path = OUT
    seed: int = SEED
    skip_spill: bool = False
    keep_data: bool = False
    pandas_scale: float = 0.1
    spill_scale: float = 3.0
    spill_memory_limit: str = "8GB"
    memory_limit: str | None = None  # the nightly's --memory-limit (default: the engine's own)
    repeat: int = 1
    rss_cap_mb: float | None = None  # a night past this resident memory is stopped (default: machine − 3 GiB)


def _module(name: str, *args: str) -> list[str]:
    return [PYTHON, "-m", f"bench.province.{name}", *args]


def ensure_data(opts: Options, scale: float, logs: Path, csv: bool = False) -> tuple[Path, dict]:
    """The generated root of ``scale`` (generated in a child process unless cached)."""
    root = root_for(scale, opts.seed, opts.work)
    summary = cached(root, csv)
    if summary is None:
        argv = _module("generate", "--scale", f"{scale:g}", "--seed", str(opts.seed), "--work", str(opts.work))
        child = timed_child(argv + ([] if csv else ["--no-csv"]), logs, f"generate-s{scale:g}", cwd=REPO)
        if child.returncode != 0:
            raise BenchError(f"generating scale {scale:g} failed:\n{child.stderr}")
        summary = child.json() | {"peak_rss_mb": round(child.peak_rss_mb)}
        summary["cached"] = False
    else:
        summary["cached"] = True
    return root, summary


def nightly(data: Path, out_dir: Path, logs: Path, name: str, memory_limit: str | None,
            models_dir: Path | None = None, rss_cap_mb: float | None = None) -> tuple[Child, Path | None, dict | None]:
    """One ``lsm nightly`` from a fresh output directory; the run directory and manifest, or None when
    the night did not publish (stopped before it ran out of memory)."""
    shutil.rmtree(out_dir, ignore_errors=True)
    argv = [LSM, "nightly", "--data", str(data), "--out", str(out_dir), "--as-of", AS_OF.isoformat(), "--json"]
    if memory_limit:
        argv += ["--memory-limit", memory_limit]
    if models_dir:
        argv += ["--models", str(models_dir)]
    child = timed_child(argv, logs, name, cwd=REPO, rss_cap_mb=rss_cap_mb or memory_cap_mb())
    if child.killed_for_memory:
        return child, None, None
    if child.returncode not in (0, 1, 3) or not (out_dir / "latest").exists():
        raise BenchError(f"{name}: lsm nightly exited {child.returncode}:\n{child.stderr}")
    run_dir = (out_dir / "latest").resolve()
    return child, run_dir, json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))


def reduced_gates_models(work: Path) -> Path:
    """A copy of models/ whose catalogue keeps, for the two payment ledgers, only the row-count checks —
    what docs/operations.md advises when great-expectations' pandas checks do not fit in memory."""
    target = work / "models-reduced-gates"
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(REPO / "models", target)
    catalogue = yaml.safe_load((target / "sources.yaml").read_text(encoding="utf-8"))
    for name in LEDGERS:
        checks = catalogue["datasets"][name]["quality"]
        catalogue["datasets"][name]["quality"] = [c for c in checks if c["check"] in ("not_empty", "row_count_change")]
    (target / "sources.yaml").write_text(yaml.safe_dump(catalogue, allow_unicode=True, sort_keys=False),
                                         encoding="utf-8")
    return target


def _truth(data: Path) -> dict:
    return json.loads((data / "truth.json").read_text(encoding="utf-8"))


def _model_seconds(manifest: dict) -> dict[str, float]:
    return {m["id"]: round(m["seconds"], 3) for m in manifest["models"]}


def _task(logs: Path, name: str, *args: str) -> tuple[dict, Child]:
    child = timed_child(_module("tasks", *args), logs, name, cwd=REPO)
    if child.returncode != 0:
        raise BenchError(f"{name} failed:\n{child.stderr}")
    return child.json(), child


def _ingest(root: Path, work: Path, logs: Path, encoding: str, truth: dict) -> dict:
    out_dir = work / f"ingest-{encoding}"
    shutil.rmtree(out_dir, ignore_errors=True)
    child = timed_child([LSM, "ingest", "--data", str(root / f"csv_{encoding}"), "--out", str(out_dir),
                         "--dataset", "pension_payments", "--json"], logs, f"ingest-{encoding}", cwd=REPO)
    if child.returncode not in (0, 3):
        raise BenchError(f"lsm ingest ({encoding}) exited {child.returncode}:\n{child.stderr}")
    report = child.json()["datasets"][0]
    expected = truth["datasets"]["pension_payments"]
    shutil.rmtree(out_dir, ignore_errors=True)
    return {"seconds": round(child.seconds, 2), "peak_rss_mb": round(child.peak_rss_mb),
            "rows_read": report["rows_read"], "rows_per_s": round(report["rows_read"] / child.seconds),
            "accounting_ok": (report["rows_read"], report["rows_quarantined"], report["rows_duplicate"]) == (
                expected["rows"], expected["quarantined"], expected["duplicates"])}


def _duckdb_text(root: Path, work: Path, logs: Path) -> dict:
    """DuckDB reading the UTF-8 CSV files as plain text (all columns VARCHAR; the monthly files' header
    forms differ, hence union_by_name) into Parquet."""
    target = work / "duckdb-text.parquet"
    code = ("import duckdb, sys; c = duckdb.connect(); c.execute('SET enable_progress_bar = false'); "
            "c.execute(\"COPY (SELECT * FROM read_csv($f, all_varchar = true, header = true, "
            "union_by_name = true)) TO $o "
            "(FORMAT parquet)\", {'f': sys.argv[1], 'o': sys.argv[2]}); "
            "print(c.execute('SELECT count(*) FROM read_parquet($o)', {'o': sys.argv[2]}).fetchone()[0])")
    child = timed_child([PYTHON, "-c", code, str(root / "csv_utf8" / "pension_payments" / "*.csv"), str(target)],
                        logs, "duckdb-text", cwd=REPO)
    if child.returncode != 0:
        raise BenchError(f"DuckDB text read failed:\n{child.stderr}")
    rows = int(child.stdout.strip().splitlines()[-1])
    target.unlink(missing_ok=True)
    return {"seconds": round(child.seconds, 2), "rows": rows, "rows_per_s": round(rows / child.seconds)}


def _night(opts: Options, scale: float, work: Path, logs: Path, name: str, memory_limit: str | None,
           models_dir: Path | None = None) -> dict:
    """Generate (or reuse) scale ``scale``, run its night, check it against the truth."""
    root, generated = ensure_data(opts, scale, logs)
    load_before = load_average()
    child, run_dir, manifest = nightly(root / "parquet", work / name, logs, name, memory_limit, models_dir,
                                       opts.rss_cap_mb)
    check = check_run(run_dir, _truth(root / "parquet")) if run_dir else None
    return {"name": name, "root": root, "generated": generated, "child": child, "run_dir": run_dir,
            "out_dir": work / name, "manifest": manifest, "check": check, "models_dir": models_dir,
            "load_average": [load_before, load_average()], "phases": phases(night_log(work / name), child)}


def _nights(opts: Options, scale: float, work: Path, logs: Path, name: str, memory_limit: str | None,
            shipped_failed: bool = False) -> tuple[dict | None, dict | None, dict | None]:
    """The night with the shipped catalogue and, if that one ran out of memory (or is known to), the same
    night with reduced ledger gates: (shipped, reduced — None when not run, the one that completed)."""
    shipped = None if shipped_failed else _night(opts, scale, work, logs, name, memory_limit)
    if shipped is not None and shipped["run_dir"] is not None:
        return shipped, None, shipped
    reduced = _night(opts, scale, work, logs, f"{name}-reduced-gates", memory_limit, reduced_gates_models(work))
    return shipped, reduced, reduced if reduced["run_dir"] is not None else None


def run(opts: Options) -> tuple[dict, dict]:
    """Every measurement; returns (scale.json, scale-details.json) and writes both under ``opts.out``."""
    work = opts.work / "runs" / f"s{opts.scale:g}"
    logs = work / "logs"
    shutil.rmtree(work, ignore_errors=True)
    logs.mkdir(parents=True)
    info = machine()
    root, generated = ensure_data(opts, opts.scale, logs, csv=True)
    data = root / "parquet"
    truth = _truth(data)
    scan, _ = _task(logs, "scan", "scan", "--data", str(data), "--threads", str(info["cores"]))
    bandwidth, _ = _task(logs, "bandwidth", "bandwidth")
    shipped, _, main = _nights(opts, opts.scale, work, logs, "nightly", opts.memory_limit)
    if main is None:
        raise BenchError("the nightly ran out of memory even with reduced ledger gates")
    manifest, run_dir = main["manifest"], main["run_dir"]
    duck = manifest["duckdb"]
    baselines, _ = _task(logs, "baselines", "baselines", "--run", str(run_dir), "--staging",
                         str(main["out_dir"] / "staging" / "datasets"), "--memory-limit",
                         duck["memory_limit"].replace(" ", ""), "--threads", str(duck["threads"]),
                         "--temp", str(work / "baseline-spill"), "--repeat", str(opts.repeat))
    engine_s = _model_seconds(manifest)
    models = {m: {"engine_s": engine_s.get(m), "baseline_s": b["baseline_s"]}
              for m, b in baselines.items() if not m.startswith("_")}
    wrong = [m for m, b in baselines.items() if not m.startswith("_") and not b["same"]]
    # pandas at a scale where it still fits: this night if small enough, else a night of its own.
    small = main if opts.scale <= opts.pandas_scale else _nights(
        opts, opts.pandas_scale, work, logs, "nightly-pandas", opts.memory_limit)[2]
    if small is None:
        raise BenchError(f"the night at the pandas scale {opts.pandas_scale:g} ran out of memory")
    pandas, _ = _task(logs, "pandas", "pandas", "--run", str(small["run_dir"]), "--staging",
                      str(small["out_dir"] / "staging" / "datasets"))
    small_engine = _model_seconds(small["manifest"])
    pandas_out = {m: {"engine_s": small_engine.get(m), "pandas_s": pandas[m]["pandas_s"]} for m in PANDAS_MODELS}
    wrong += [f"pandas:{m}" for m in PANDAS_MODELS if not pandas[m]["same"]]
    ingest = {encoding: _ingest(root, work, logs, encoding, truth) for encoding in ("utf8", "gb18030")}
    text = _duckdb_text(root, work, logs)
    spill, spill_details = (_spill_skipped(opts) if opts.skip_spill else
                            _spill(opts, work, logs, shipped_failed=main is not shipped))
    info["load_average_end"] = load_average()
    night = shipped or main
    results = {
        "date": dt.datetime.now().astimezone().isoformat(timespec="seconds"), "scale": opts.scale, "machine": info,
        "rows_total": truth["rows_total"],
        "truth_ok": bool(shipped and shipped is main and main["check"].ok and not wrong
                         and all(i["accounting_ok"] for i in ingest.values())),
        "nightly_seconds": round(night["child"].seconds, 1), "peak_rss_mb": round(night["child"].peak_rss_mb),
        "scan_bound_seconds": scan["decode_all_columns_seconds"],
        "ingest_rows_per_s": {"csv_utf8": ingest["utf8"]["rows_per_s"], "csv_gb18030": ingest["gb18030"]["rows_per_s"]},
        "models": models, "pandas": pandas_out, "spill": spill,
    }
    details = {
        "commands": {"bench": f".venv/bin/python bench/run.py --scale {opts.scale:g}",
                     "nightly": f"lsm nightly --data {data} --out {work / 'nightly'} --as-of {AS_OF}"
                                + (f" --memory-limit {opts.memory_limit}" if opts.memory_limit else "")},
        "generated": generated, "scan": scan, "memory_bandwidth": bandwidth,
        "nightly": _night_details(night),
        "nightly_reduced_gates": _night_details(main) if main is not shipped else None,
        "models_from": main["name"],
        "baselines": baselines, "baseline_mismatches": wrong,
        "pandas": {"scale": opts.pandas_scale if small is not main else opts.scale, "night": small["name"],
                   "details": pandas, "rows_total": _truth(small["root"] / "parquet")["rows_total"]},
        "ingest": {"dataset": "pension_payments", "lsm": ingest, "duckdb_text_utf8": text},
        "spill": spill_details,
    }
    write(results, details, opts.out)
    if not opts.keep_data:
        shutil.rmtree(work, ignore_errors=True)
    return results, details


def _spill_skipped(opts: Options) -> tuple[dict, dict]:
    return ({"scale": opts.spill_scale, "memory_limit": opts.spill_memory_limit, "rows_total": None,
             "seconds": None, "ok": None}, {"skipped": True})


def _spill(opts: Options, work: Path, logs: Path, shipped_failed: bool) -> tuple[dict, dict]:
    """The night at ``spill_scale`` under ``spill_memory_limit``: (the contract's ``spill``, its details).
    The shipped gates are not tried again there when they already ran out of memory at the main scale."""
    big_shipped, big_reduced, _ = _nights(opts, opts.spill_scale, work, logs, "nightly-spill",
                                          opts.spill_memory_limit, shipped_failed=shipped_failed)
    spill = {"scale": opts.spill_scale, "memory_limit": opts.spill_memory_limit,
             "rows_total": _truth(root_for(opts.spill_scale, opts.seed, opts.work) / "parquet")["rows_total"],
             "seconds": round(big_shipped["child"].seconds, 1) if big_shipped else None,
             "ok": bool(big_shipped and big_shipped["run_dir"] and big_shipped["child"].returncode == 0
                        and big_shipped["check"].ok)}
    return spill, {"shipped_gates": _night_details(big_shipped) if big_shipped else
                   "not run: the shipped gates already ran out of memory at the main scale",
                   "reduced_gates": _night_details(big_reduced) if big_reduced else None}


def run_spill_only(opts: Options) -> tuple[dict, dict]:
    """Only the spill night, merged into the ``scale.json`` / ``scale-details.json`` a full run of the same
    scale already wrote under ``opts.out`` (the spill night takes as long as everything else together)."""
    results = json.loads((opts.out / "scale.json").read_text(encoding="utf-8"))
    details = json.loads((opts.out / "scale-details.json").read_text(encoding="utf-8"))
    if results["scale"] != opts.scale:
        raise BenchError(f"{opts.out / 'scale.json'} is of scale {results['scale']}, not {opts.scale:g}")
    work = opts.work / "runs" / f"s{opts.scale:g}-spill"
    logs = work / "logs"
    shutil.rmtree(work, ignore_errors=True)
    logs.mkdir(parents=True)
    load_before = load_average()
    results["spill"], details["spill"] = _spill(opts, work, logs,
                                                shipped_failed=details.get("nightly_reduced_gates") is not None)
    details["spill"]["measured"] = {"date": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
                                    "load_average_before_after": [load_before, load_average()],
                                    "command": f".venv/bin/python bench/run.py --scale {opts.scale:g} --spill-only"}
    write(results, details, opts.out)
    if not opts.keep_data:
        shutil.rmtree(work, ignore_errors=True)
    return results, details


def _night_details(night: dict) -> dict:
    manifest, check, child = night["manifest"], night["check"], night["child"]
    out = {"night": night["name"], "completed": night["run_dir"] is not None, "seconds": round(child.seconds, 1),
           "exit_code": child.returncode, "killed_for_memory": child.killed_for_memory,
           "peak_rss_mb": round(child.peak_rss_mb), "phases": night["phases"],
           "load_average_before_after": night["load_average"], "rows_total": night["generated"]["rows_total"],
           "catalogue": "reduced ledger gates (bench copy of models/)" if night["models_dir"] else "shipped"}
    if manifest is not None:
        out |= {"duckdb": manifest["duckdb"],
                "models": {m["id"]: {"seconds": round(m["seconds"], 3), "clues": m["clues"], "status": m["status"]}
                           for m in manifest["models"]},
                "matches": manifest.get("matches", []),
                "truth": {"ok": check.ok, "clues": check.clues, "expected": check.expected,
                          "problems": check.problems[:20]}}
    else:
        out["stderr_tail"] = child.stderr[-1500:]
    return out


def write(results: dict, details: dict, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "scale.json").write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    (out / "scale-details.json").write_text(json.dumps(details, ensure_ascii=False, indent=1, default=str) + "\n",
                                            encoding="utf-8")

"""The markdown tables of ``docs/performance.md``, rewritten from ``scale.json`` and ``scale-details.json``.

Only the part between ``<!-- bench:begin -->`` and ``<!-- bench:end -->`` is generated; the analysis
around it (profiles, limits, next steps) is written by hand.

Example::

    update_docs(Path("docs/performance.md"), results, details)
"""

from __future__ import annotations

from pathlib import Path

BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"
TARGETS = {"nightly_seconds": 600, "model_ratio": 1.3, "quality_share": 0.10}


def _ratio(a: float | None, b: float | None) -> str:
    return "–" if not a or not b else f"{a / b:.2f}"


def _s(value: float | None) -> str:
    return "–" if value is None else f"{value:,.2f}"


def _night_row(label: str, night: dict, scan: float) -> str:
    ended = "" if night["completed"] else (" — **stopped: out of memory**" if night["killed_for_memory"]
                                           else f" — **failed (exit {night['exit_code']})**")
    quality = night["phases"].get("quality")
    share = f"; quality gates {quality:,.0f} s = {quality / night['seconds']:.0%}" if quality else ""
    truth = night.get("truth")
    checked = "" if truth is None else f"; truth {'passed' if truth['ok'] else 'FAILED'}"
    return (f"| {label} | **{night['seconds']:,.0f} s**{ended}, {night['peak_rss_mb']:,} MB peak{share}{checked} | "
            f"scan bound {scan:,.1f} s (×{night['seconds'] / scan:.0f}) | < {TARGETS['nightly_seconds']} s; "
            f"≤ 3× the scan bound; gates ≤ 10 % |")


def _phases(night: dict) -> str:
    return f"{night['night']}: " + ", ".join(f"{name} {value:,.1f}" for name, value in night["phases"].items())


def tables(results: dict, details: dict) -> str:
    m = results["machine"]
    scan = results["scan_bound_seconds"]
    nights = [("whole nightly, shipped catalogue (`lsm nightly`, fresh output directory)", details["nightly"])]
    if details.get("nightly_reduced_gates"):
        nights.append(("whole nightly, ledger gates reduced to row counts (docs/operations.md)",
                       details["nightly_reduced_gates"]))
    spill = details["spill"]
    for key, label in (("shipped_gates", "shipped catalogue"), ("reduced_gates", "ledger gates reduced")):
        if isinstance(spill.get(key), dict):
            nights.append((f"scale {results['spill']['scale']:g} under `--memory-limit "
                           f"{results['spill']['memory_limit']}`, {label}", spill[key]))
    lines = [
        f"Measured {results['date']} on {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB "
        f"(load average {m['load_average_start']} at the start, {m['load_average_end']} at the end); "
        f"DuckDB {m['duckdb']}, Polars {m['polars']}, Python {m['python']}. Scale **{results['scale']:g}**: "
        f"{results['rows_total']:,} input rows; `truth_ok`: **{results['truth_ok']}**.",
        "",
        "| figure | measured | limit measured by the same script | target |",
        "|---|---|---|---|",
        *[_night_row(label, night, scan) for label, night in nights],
        f"| machine limits | – | Parquet decode of every input column {scan:,.1f} s "
        f"({results['rows_total'] / scan:,.0f} rows/s); memory copy {details['memory_bandwidth']['gb_per_s']} GB/s | – |",
        f"| CSV ingest, UTF-8 (`lsm ingest`, {details['ingest']['lsm']['utf8']['rows_read']:,} rows) | "
        f"{results['ingest_rows_per_s']['csv_utf8']:,} rows/s | DuckDB reading the same file as text: "
        f"{details['ingest']['duckdb_text_utf8']['rows_per_s']:,} rows/s | – |",
        f"| CSV ingest, GB18030 | {results['ingest_rows_per_s']['csv_gb18030']:,} rows/s | (DuckDB reads no "
        f"GB18030: the UTF-8 figure above) | – |",
        "", "Phases (seconds, from each night's log): " + "; ".join(_phases(night) for _, night in nights) + ".", "",
        f"Models (engine seconds from the manifest of `{details['models_from']}`):", "",
        "| model | engine s | hand-written DuckDB query s | ratio (target ≤ 1.3) | clues |", "|---|---|---|---|---|",
    ]
    for model, row in results["models"].items():
        clues = details["baselines"][model]["clues"]
        lines.append(f"| {model} | {_s(row['engine_s'])} | {_s(row['baseline_s'])} | "
                     f"{_ratio(row['engine_s'], row['baseline_s'])} | {clues:,} |")
    pandas = details["pandas"]
    lines += ["", f"M01–M04 against pandas at scale {pandas['scale']:g} ({pandas['rows_total']:,} rows; pandas read "
                  f"and typed its frames in {pandas['details']['_load_seconds']:,.1f} s, not counted):",
              "", "| model | engine s | pandas s | speed-up |", "|---|---|---|---|"]
    for model, row in results["pandas"].items():
        lines.append(f"| {model} | {_s(row['engine_s'])} | {_s(row['pandas_s'])} | "
                     f"{_ratio(row['pandas_s'], row['engine_s'])}× |")
    return "\n".join(lines)


def update_docs(path: Path, results: dict, details: dict) -> None:
    text = path.read_text(encoding="utf-8")
    head, _, rest = text.partition(BEGIN)
    _, _, tail = rest.partition(END)
    path.write_text(f"{head}{BEGIN}\n{tables(results, details)}\n{END}{tail}", encoding="utf-8")

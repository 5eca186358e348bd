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


def tables(results: dict, details: dict) -> str:
    m = results["machine"]
    night = details["nightly"]
    phases = night["phases"]
    scan = results["scan_bound_seconds"]
    lines = [
        f"Measured {results['date']} on {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB "
        f"(load average {m['load_average_start']} at the start, {m['load_average_end']} at the end); "
        f"DuckDB {m['duckdb']}, Polars {m['polars']}, Python {m['python']}. Scale **{results['scale']:g}**: "
        f"{results['rows_total']:,} input rows; truth check: **{'passed' if results['truth_ok'] else 'FAILED'}**.",
        "",
        "| figure | measured | limit measured by the same script | target |",
        "|---|---|---|---|",
        f"| whole nightly (`lsm nightly`, fresh output directory) | **{results['nightly_seconds']:,.0f} s**, "
        f"{results['peak_rss_mb']:,} MB peak | Parquet scan bound {scan:,.1f} s "
        f"(×{results['nightly_seconds'] / scan:.0f}); memory copy {details['memory_bandwidth']['gb_per_s']} GB/s | "
        f"< {TARGETS['nightly_seconds']} s; within 3× the scan bound |",
        f"| data-quality gates | {phases['quality']:,.0f} s = "
        f"{phases['quality'] / results['nightly_seconds']:.0%} of the night | – | ≤ 10 % of the night |",
        f"| CSV ingest, UTF-8 (`lsm ingest`) | {results['ingest_rows_per_s']['csv_utf8']:,} rows/s | DuckDB reading "
        f"the same file as text: {details['ingest']['duckdb_text_utf8']['rows_per_s']:,} rows/s | – |",
        f"| CSV ingest, GB18030 | {results['ingest_rows_per_s']['csv_gb18030']:,} rows/s | (DuckDB reads no "
        f"GB18030: the UTF-8 figure above) | – |",
    ]
    spill = results["spill"]
    if spill["seconds"] is not None:
        lines.append(f"| scale {spill['scale']:g} under `--memory-limit {spill['memory_limit']}` | "
                     f"{spill['seconds']:,.0f} s for {spill['rows_total']:,} rows, "
                     f"{details['spill']['peak_rss_mb']:,} MB peak, ok: {spill['ok']} | – | completes by spilling |")
    lines += ["", "Phases of the night (seconds, from the run's log): " + ", ".join(
        f"{name} {value:,.1f}" for name, value in phases.items()) + ".", "",
              "| model | engine s | hand-written DuckDB query s | ratio (target ≤ 1.3) | clues |", "|---|---|---|---|---|"]
    for model, row in results["models"].items():
        clues = details["baselines"][model]["clues"]
        lines.append(f"| {model} | {_s(row['engine_s'])} | {_s(row['baseline_s'])} | "
                     f"{_ratio(row['engine_s'], row['baseline_s'])} | {clues:,} |")
    pandas_scale = details["pandas"]["scale"]
    lines += ["", f"M01–M04 against pandas at scale {pandas_scale:g} ({details['pandas']['rows_total']:,} rows; "
                  f"pandas read its frames in {details['pandas']['details']['_load_seconds']:,.1f} s, not counted):",
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

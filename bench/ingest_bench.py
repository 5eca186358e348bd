"""Ingest benchmark: a 10-million-row GB18030 payments CSV through ``lsm ingest``.

Generates (once, cached under bench/out/) a ``dibao_payments.csv`` of the
requested size in GB18030 with the messy forms agencies send (months and
amounts in several notations, spaced and lower-case IDs, 15-digit IDs,
traditional characters, a few unreadable rows), then times in the same run:

* ``lsm ingest`` on it (a subprocess: wall time and peak resident memory);
* a baseline: DuckDB reading the same rows (UTF-8 copy) as text and writing
  Parquet, with no normalisation, quarantine or de-duplication.

The result (seconds, peak MB, ratio to the baseline) goes to
``bench/results/ingest.json``.

    .venv/bin/python bench/ingest_bench.py --rows 10000000
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from sample_data.fake import AREA_CODES, birth_days, id_numbers, person_names  # noqa: E402

OUT = REPO / "bench" / "out" / "ingest"
RESULTS = REPO / "bench" / "results" / "ingest.json"


def generate(rows: int, seed: int = 20261122) -> Path:
    root = OUT / f"root-{rows}"
    target = root / "dibao_payments.csv"
    if target.exists():
        return target
    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    people = max(rows // 48, 1)
    names = person_names(rng, people)
    ids = id_numbers(rng, rng.choice(AREA_CODES, people), birth_days(rng, people, 1930, 2005))
    who = rng.integers(0, people, size=rows)
    month_index = rng.integers(0, 48, size=rows)
    years = 2021 + month_index // 12
    months = 1 + month_index % 12
    notation = rng.integers(0, 4, size=rows)
    y, m = years.astype("U4"), months.astype("U2")
    pay_month = np.select(
        [notation == 0, notation == 1, notation == 2],
        [np.char.add(np.char.add(y, "-"), np.char.zfill(m, 2)), np.char.add(y, np.char.zfill(m, 2)),
         np.char.add(np.char.add(np.char.add(y, "年"), m), "月")],
        np.char.add(np.char.add(y, "/"), m))
    cents = rng.integers(30000, 120000, size=rows)
    amount_text = np.char.add(np.char.add((cents // 100).astype("U7"), "."), np.char.zfill((cents % 100).astype("U2"), 2))
    style = rng.integers(0, 4, size=rows)
    amount = np.select([style == 1, style == 2], [np.char.add(amount_text, "元"), np.char.add("¥", amount_text)],
                       amount_text)
    id_text = pa.array(ids[who])
    messy = rng.random(rows)
    spaced = pc.binary_join_element_wise(pc.utf8_slice_codeunits(id_text, 0, 6),
                                         pc.utf8_slice_codeunits(id_text, 6, 14),
                                         pc.utf8_slice_codeunits(id_text, 14, 18), " ")
    fifteen = pc.binary_join_element_wise(pc.utf8_slice_codeunits(id_text, 0, 6),
                                          pc.utf8_slice_codeunits(id_text, 8, 17), "")
    id_text = pc.if_else(pa.array(messy < 0.01), pc.utf8_lower(id_text), id_text)
    id_text = pc.if_else(pa.array((messy >= 0.01) & (messy < 0.02)), spaced, id_text)
    id_text = pc.if_else(pa.array((messy >= 0.02) & (messy < 0.025)), fifteen, id_text)
    name_text = names[who]
    name_text = np.where(messy > 0.995, np.char.replace(name_text, "张", "張"), name_text)
    amount = np.where(messy < 0.00001, "约五千", amount)  # a few unreadable rows
    table = pa.table({
        "发放流水号": pa.array(np.char.add("D", np.char.zfill(np.arange(rows).astype("U8"), 8))),
        "户编号": pa.array(np.char.add("H", np.char.zfill((who // 3).astype("U6"), 6))),
        "姓名": pa.array(name_text),
        "身份证号": id_text,
        "区县": pa.array(np.array(["锦江区", "青羊区", "金牛区", "武侯区", "成华区"])[who % 5]),
        "发放月份": pa.array(pay_month),
        "发放金额": pa.array(amount),
    })
    utf8 = root / "utf8" / "dibao_payments.csv"
    utf8.parent.mkdir(exist_ok=True)
    pacsv.write_csv(table, utf8, write_options=pacsv.WriteOptions(quoting_style="needed"))
    _transcode(utf8, target, "gb18030")
    return target


def _transcode(source: Path, target: Path, encoding: str) -> None:
    tmp = target.with_suffix(".tmp")
    with open(source, "rb") as src, open(tmp, "wb") as dst:
        carry = b""
        while chunk := src.read(64 << 20):
            data = carry + chunk
            cut = data.rfind(b"\n") + 1
            dst.write(data[:cut].decode("utf-8").encode(encoding))
            carry = data[cut:]
        dst.write(carry.decode("utf-8").encode(encoding))
    os.replace(tmp, target)


def timed_child(argv: list[str]) -> tuple[float, float, str]:
    """Run a child process; wall seconds, its own peak RSS in MB (from wait4), stdout.

    Call it from a process with a small footprint: on Linux a child's ``ru_maxrss``
    starts from its parent's RSS at fork time.
    """
    start = time.perf_counter()
    with open(OUT / "child.out", "w+") as out, open(OUT / "child.err", "w+") as err:
        proc = subprocess.Popen(argv, stdout=out, stderr=err, text=True)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        code = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if code not in (0, 3):
            raise SystemExit(f"{argv[0]} failed ({code}):\n{err.read()[-3000:]}")
        return seconds, usage.ru_maxrss / 1024, out.read()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--generate-only", action="store_true")
    args = parser.parse_args()
    if args.generate_only:
        print(generate(args.rows))
        return
    # Generate in a child: Linux carries a parent's peak RSS into the children it forks,
    # so the big generator arrays must never live in the process that launches the timed runs.
    subprocess.run([sys.executable, __file__, "--rows", str(args.rows), "--generate-only"], check=True)
    csv_path = generate(args.rows)
    size_mb = csv_path.stat().st_size / 1e6
    python = str(REPO / ".venv" / "bin" / "python")
    work = OUT / "work"
    shutil.rmtree(work, ignore_errors=True)

    baseline_code = (
        "import duckdb,sys; c=duckdb.connect(); c.execute('SET enable_progress_bar=false');"
        "c.execute(\"COPY (SELECT * FROM read_csv($f, all_varchar=true)) TO $o (FORMAT parquet)\","
        " {'f': sys.argv[1], 'o': sys.argv[2]})"
    )
    work.mkdir(parents=True)
    base_s, base_mb, _ = timed_child([python, "-c", baseline_code, str(csv_path.parent / "utf8" / csv_path.name),
                                      str(work / "baseline.parquet")])
    lsm_s, lsm_mb, stdout = timed_child([str(REPO / ".venv" / "bin" / "lsm"), "ingest", "--data",
                                         str(csv_path.parent), "--out", str(work / "runs"),
                                         "--dataset", "dibao_payments", "--json"])
    report = json.loads(stdout)["datasets"][0]
    result = {
        "benchmark": "ingest dibao_payments (GB18030 CSV)",
        "command": f".venv/bin/python bench/ingest_bench.py --rows {args.rows}",
        "rows": args.rows, "file_mb": round(size_mb, 1),
        "lsm_seconds": round(lsm_s, 2), "lsm_peak_mb": round(lsm_mb),
        "baseline": "DuckDB read_csv(all_varchar) of the UTF-8 copy → Parquet, no normalisation",
        "baseline_seconds": round(base_s, 2),
        "ratio_to_baseline": round(lsm_s / base_s, 2),
        "rows_read": report["rows_read"], "rows_accepted": report["rows_accepted"],
        "rows_quarantined": report["rows_quarantined"], "rows_duplicate": report["rows_duplicate"],
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "limits": {"seconds": 60, "peak_mb": 4096},
        "within_limits": lsm_s < 60 and lsm_mb < 4096,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()

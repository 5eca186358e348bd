"""PostgreSQL source benchmark: a million-row 低保 payments table read by ``lsm ingest``.

Starts a throwaway PostgreSQL server (the tests' ``tests/pgserver.py``), loads the ingest benchmark's
generated payments (``bench/ingest_bench.py``: messy months, amounts and IDs, a few unreadable rows)
into a table of text columns, then times in the same run:

* the baseline: ``COPY (SELECT every column::text … ORDER BY every column) TO STDOUT`` through psycopg,
  the bytes discarded — what the server and the wire cost for exactly the rows the connector asks for;
* ``connectors.postgres.read_postgres`` alone (ADBC → Arrow batches, hashed);
* ``lsm ingest`` on a data root whose ``connections.yaml`` serves ``dibao_payments`` from the table
  (a subprocess: read, normalise, quarantine, de-duplicate, stage), with its row accounting.

Results go to ``bench/results/postgres.json``.

    .venv/bin/python bench/postgres_bench.py --rows 1000000
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

import psycopg
from psycopg import sql

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "bench"))

from ingest_bench import generate, timed_child  # noqa: E402
from pgserver import PgServer  # noqa: E402

from connectors.postgres import read_postgres  # noqa: E402

OUT = REPO / "bench" / "out" / "postgres"
RESULTS = REPO / "bench" / "results" / "postgres.json"


def load_table(dsn: str, utf8_csv: Path) -> tuple[list[str], int]:
    """The CSV's cells into ``public.dibao_payments`` (every column text), with COPY."""
    with open(utf8_csv, encoding="utf-8", newline="") as source:
        headers = next(csv.reader(source))
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE TABLE public.dibao_payments ({})").format(
            sql.SQL(", ").join(sql.SQL("{} text").format(sql.Identifier(h)) for h in headers)))
        with open(utf8_csv, "rb") as source, conn.cursor().copy(
                "COPY public.dibao_payments FROM STDIN (FORMAT csv, HEADER true)") as copy:
            while block := source.read(8 << 20):
                copy.write(block)
        conn.execute("ANALYZE public.dibao_payments")
        rows = conn.execute("SELECT count(*) FROM public.dibao_payments").fetchone()[0]
    return headers, rows


def copy_baseline(dsn: str, headers: list[str]) -> tuple[float, int]:
    """Seconds to stream the connector's query as COPY text, and the bytes received."""
    cells = sql.SQL(", ").join(sql.SQL("{}::text").format(sql.Identifier(h)) for h in headers)
    order = sql.SQL(", ").join(sql.Literal(i + 1) for i in range(len(headers)))
    statement = sql.SQL("COPY (SELECT {} FROM public.dibao_payments ORDER BY {}) TO STDOUT").format(cells, order)
    received = 0
    start = time.perf_counter()
    with psycopg.connect(dsn) as conn, conn.cursor().copy(statement) as copy:
        for block in copy:
            received += len(block)
    return time.perf_counter() - start, received


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    subprocess.run([sys.executable, str(REPO / "bench" / "ingest_bench.py"), "--rows", str(args.rows),
                    "--generate-only"], check=True)
    csv_path = generate(args.rows)
    shutil.rmtree(OUT, ignore_errors=True)
    (OUT / "data").mkdir(parents=True)
    with PgServer.start() as server:
        dsn = server.create_database("agency")
        headers, rows = load_table(dsn, csv_path.parent / "utf8" / csv_path.name)
        copy_baseline(dsn, headers)  # warm the server's cache: every measurement below reads warm pages
        base_s, base_bytes = copy_baseline(dsn, headers)
        (OUT / "data" / "connections.yaml").write_text(
            "datasets:\n  dibao_payments:\n    postgres: {dsn_env: LSM_BENCH_PG, table: public.dibao_payments}\n",
            encoding="utf-8")
        os.environ["LSM_BENCH_PG"] = dsn
        # lsm first: a child's peak RSS starts from its parent's, so the parent reads nothing big before
        lsm_s, lsm_mb, stdout = timed_child([str(REPO / ".venv" / "bin" / "lsm"), "ingest", "--data",
                                             str(OUT / "data"), "--out", str(OUT / "runs"),
                                             "--dataset", "dibao_payments", "--json"])
        start = time.perf_counter()
        raw, _ = read_postgres(dsn, table="public.dibao_payments")
        read_s = time.perf_counter() - start
        assert raw.table.num_rows == rows
        del raw
    report = json.loads(stdout)["datasets"][0]
    assert report["rows_read"] == rows == (report["rows_accepted"] + report["rows_quarantined"]
                                           + report["rows_duplicate"])
    assert report["rows_quarantined"] < rows // 1000, "the generator plants only a few unreadable rows"
    result = {
        "benchmark": "PostgreSQL source: dibao_payments table → lsm ingest",
        "command": f".venv/bin/python bench/postgres_bench.py --rows {args.rows}",
        "rows": rows, "copy_mb": round(base_bytes / 1e6, 1),
        "baseline": "psycopg COPY (SELECT every column::text ORDER BY every column) TO STDOUT, bytes discarded",
        "baseline_seconds": round(base_s, 2),
        "read_postgres_seconds": round(read_s, 2),
        "read_ratio_to_baseline": round(read_s / base_s, 2),
        "lsm_ingest_seconds": round(lsm_s, 2), "lsm_ingest_peak_mb": round(lsm_mb),
        "ingest_ratio_to_baseline": round(lsm_s / base_s, 2),
        "rows_read": report["rows_read"], "rows_accepted": report["rows_accepted"],
        "rows_quarantined": report["rows_quarantined"], "rows_duplicate": report["rows_duplicate"],
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()

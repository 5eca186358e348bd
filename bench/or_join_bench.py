"""Why M06 and M10 match "same person" with a union of two equi-joins instead of one OR join.

"Equal IDs, or — the judgment has no ID — equal name and birth date" written as one join condition
with OR leaves DuckDB no equality to hash on: it compares every pair (a nested-loop join). Two joins
(ID = ID; name = name AND birth = birth) each hash-join, and their union is the same set of pairs.
Both forms run here on the same synthetic tables, same machine, same run; the result is a ratio.

    .venv/bin/python bench/or_join_bench.py [--rows 100000]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import duckdb

OR_JOIN = """SELECT count(*) FROM s JOIN j ON (j.id IS NOT NULL AND j.id = s.id)
             OR (j.id IS NULL AND j.name = s.name AND j.birth = s.birth)"""
UNION = """SELECT count(*) FROM (SELECT s.id FROM s JOIN j ON j.id = s.id
           UNION ALL SELECT s.id FROM s JOIN j ON j.id IS NULL AND j.name = s.name AND j.birth = s.birth)"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    con = duckdb.connect()
    n = args.rows
    con.execute(f"CREATE TABLE s AS SELECT lpad(i::VARCHAR, 18, '0') id, 'n' || (i % {n // 6}) name, "
                f"DATE '1970-01-01' + (i % 9000)::INT birth FROM range({n}) t(i)")
    con.execute(f"CREATE TABLE j AS SELECT CASE WHEN i % 3 = 0 THEN NULL ELSE lpad((i * 7)::VARCHAR, 18, '0') END id, "
                f"'n' || (i % {n // 6}) name, DATE '1970-01-01' + (i % 9000)::INT birth FROM range({n}) t(i)")
    timings, counts = {}, {}
    for name, sql in (("union_of_equi_joins", UNION), ("or_join", OR_JOIN)):
        start = time.perf_counter()
        counts[name] = con.execute(sql).fetchall()[0][0]
        timings[name] = round(time.perf_counter() - start, 3)
    assert counts["or_join"] == counts["union_of_equi_joins"], counts
    result = {"rows_each_side": n, "pairs": counts["or_join"], "seconds": timings,
              "ratio_or_to_union": round(timings["or_join"] / max(timings["union_of_equi_joins"], 1e-6), 1)}
    out = Path(__file__).parent / "results" / "or_join.json"
    out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(result))


if __name__ == "__main__":
    main()

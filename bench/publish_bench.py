"""Review store at 100,000 clues: publishing a run (insert, then republish = update path), the queue
query a page runs (count + one page of 50, ranked by score; filtered; name and ID search; the
recommended filter with a share set for every model) and the queue page's server time (``GET /queue``
through the app, logged in, HTML rendered).

Synthetic clues are built column by column (numpy/Arrow) with evidence of a realistic size (~1 KB).
SQLite always; ``--postgres`` also starts a throwaway PostgreSQL (tests/pgserver.py). Writes
``bench/results/review.json``.

    .venv/bin/python bench/publish_bench.py [--clues 100000] [--postgres]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))

from fastapi.testclient import TestClient  # noqa: E402

from engine.review.app import create_app  # noqa: E402
from engine.review.publish import publish_run  # noqa: E402
from engine.review.queries import Filters, list_clues  # noqa: E402
from engine.review.store import open_store  # noqa: E402
from engine.review.triage import set_recommended  # noqa: E402
from engine.review.users import User, add_user  # noqa: E402

RESULTS = REPO / "bench" / "results" / "review.json"
MODELS = [f"model_{i:02d}" for i in range(10)]
COUNTIES = ["锦江区", "青羊区", "金牛区", "武侯区", "成华区", "龙泉驿区", "新都区", "温江区"]


def synthetic_run(root: Path, n: int, run_id: str = "bench-r1") -> Path:
    rng = np.random.default_rng(7)
    idx = np.arange(n)
    ids = [f"510104{19500101 + (i % 500000):08d}{i % 1000:03d}{i % 10}" for i in range(n)]
    models = np.array(MODELS)[idx % len(MODELS)]
    counties = np.array(COUNTIES)[rng.integers(0, len(COUNTIES), n)]
    names = [f"测试{i:06d}" for i in range(n)]
    amounts = rng.integers(100, 5_000_000, n)
    padding = "x" * 700
    evidence = [json.dumps({"legal_basis": "《社会救助暂行办法》第十三条", "subject": {"id": s, "name": nm},
                            "sources": [{"dataset": "payments", "fields": {"id_number": s, "county": c,
                                                                           "note": padding}}]}, ensure_ascii=False)
                for s, nm, c in zip(ids, names, counties.tolist(), strict=True)]
    start = np.datetime64("2023-01-01") + rng.integers(0, 365, n).astype("timedelta64[D]")
    table = pa.table({
        "run_id": pa.array([run_id] * n), "model_id": pa.array(models), "rule_id": pa.array(["default"] * n),
        "clue_id": pa.array([f"c{i:012d}" for i in range(n)]), "subject_type": pa.array(["person"] * n),
        "subject_id": pa.array(ids), "subject_name": pa.array(names),
        "rank": pa.array((idx // len(MODELS) + 1).astype("int32")), "score": pa.array(rng.uniform(0, 100, n).round(2)),
        "confidence": pa.array(np.ones(n)),
        "amount": pa.array(amounts / 100.0).cast(pa.decimal128(18, 2)),
        "period_start": pa.array(start), "period_end": pa.array(start + np.timedelta64(90, "D")),
        "summary": pa.array([f"{nm} 领取低保" for nm in names]), "evidence": pa.array(evidence),
    })
    table = table.set_column(table.schema.get_field_index("period_start"), "period_start",
                             table.column("period_start").cast(pa.date32()))
    table = table.set_column(table.schema.get_field_index("period_end"), "period_end",
                             table.column("period_end").cast(pa.date32()))
    run_dir = root / run_id
    run_dir.mkdir(parents=True)
    pq.write_table(table, run_dir / "clues.parquet")
    (run_dir / "manifest.json").write_text(json.dumps({"run_id": run_id, "models": [
        {"id": m, "status": "ok"} for m in MODELS]}))
    return run_dir


def _median_ms(fn, repeat: int = 7) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return round(statistics.median(times), 1)


def measure(url: str, run_dir: Path, n: int) -> dict:
    store = open_store(url)
    t0 = time.perf_counter()
    first = publish_run(store, run_dir)
    insert_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    again = publish_run(store, run_dir)
    update_s = time.perf_counter() - t0
    assert first.inserted == n and again.updated == n and again.inserted == 0
    admin = User(0, "bench", "admin", None, None)
    limited = User(0, "bench", "prosecutor", (MODELS[0], MODELS[1]), (COUNTIES[0],))
    queries = {
        "queue_page_1": (admin, Filters()),
        "queue_page_100": (admin, Filters(page=100)),
        "queue_model_status": (admin, Filters(model_id=MODELS[3], status="pending")),
        "queue_limited_user": (limited, Filters()),
        "search_name": (admin, Filters(q="测试00012")),
        "search_full_id": (admin, Filters(q="51010419500113012" + "2")),
    }
    timings = {name: _query_ms(store, user, f) for name, (user, f) in queries.items()}
    with store.engine.begin() as conn:
        for model in MODELS:
            set_recommended(conn, admin, model, 20)
    timings["recommended_20pct"] = _query_ms(store, admin, Filters(recommended=True))
    timings["queue_page_1_with_shares"] = _query_ms(store, admin, Filters())
    store.dispose()
    return {"clues": n, "publish_insert_s": round(insert_s, 2), "publish_republish_s": round(update_s, 2),
            "queue_ms": timings, "page_ms": page_timings(url)}


def _query_ms(store, user: User, f: Filters) -> float:
    with store.engine.connect() as conn:
        return _median_ms(lambda: list_clues(conn, user, f))


def page_timings(url: str) -> dict:
    """The queue page as a prosecutor's browser gets it: ``GET /queue?…`` through the app (session
    checked, queries, facets, HTML rendered, audit of searches), median server time in ms."""
    app = create_app(url, "bench-secret-0123456789abcdef")
    add_user(app.state.store, "bench_admin", "admin", "bench-password-1")
    pages = {"page_1": "/queue", "model_status": f"/queue?model_id={MODELS[3]}&status=pending",
             "recommended": "/queue?recommended=1", "search_name": "/queue?q=测试00012",
             "search_full_id": "/queue?q=510104195001130122", "page_100": "/queue?page=100"}
    with TestClient(app) as client:
        login = client.post("/api/v1/session", json={"username": "bench_admin", "password": "bench-password-1"})
        assert login.status_code == 200, login.text
        for path in pages.values():
            assert client.get(path).status_code == 200, path
        return {name: _median_ms(lambda path=path: client.get(path)) for name, path in pages.items()}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clues", type=int, default=100_000)
    parser.add_argument("--postgres", action="store_true")
    args = parser.parse_args()
    results = {"date": dt.date.today().isoformat(), "machine": {"python": platform.python_version(),
                                                                 "cpus": os.cpu_count()}}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        run_dir = synthetic_run(root / "runs", args.clues)
        results["sqlite"] = measure(f"sqlite:///{root / 'review.db'}", run_dir, args.clues)
        print("sqlite", results["sqlite"], flush=True)
        if args.postgres:
            from pgserver import PgServer

            with PgServer.start() as pg:
                results["postgresql"] = measure(pg.create_database("bench"), run_dir, args.clues)
                print("postgresql", results["postgresql"], flush=True)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()

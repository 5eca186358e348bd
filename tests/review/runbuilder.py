"""Small hand-made run directories for the review tests: clues.parquet, clue_states.parquet and
manifest.json with the columns a real run writes (see engine/runs)."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

CLUE_SCHEMA = pa.schema([
    ("run_id", pa.string()), ("model_id", pa.string()), ("rule_id", pa.string()), ("clue_id", pa.string()),
    ("subject_type", pa.string()), ("subject_id", pa.string()), ("subject_name", pa.string()),
    ("rank", pa.int32()), ("score", pa.float64()), ("confidence", pa.float64()),
    ("amount", pa.decimal128(18, 2)), ("period_start", pa.date32()), ("period_end", pa.date32()),
    ("summary", pa.string()), ("evidence", pa.string()),
])


def clue(clue_id: str, model_id: str = "m_dibao", *, subject_id: str = "510104198001010014", name: str = "张伟",
         score: float = 90.0, amount: str = "1000.00", county: str | None = "锦江区", rule_id: str = "default",
         start: dt.date = dt.date(2024, 1, 1), end: dt.date = dt.date(2024, 3, 1), rank: int = 1) -> dict:
    fields = {"person_name": name, "id_number": subject_id, "amount": float(amount)}
    if county:
        fields["county"] = county
    evidence = {"model": model_id, "rule": rule_id, "legal_basis": "《社会救助暂行办法》第十三条",
                "subject": {"type": "person", "id": subject_id, "name": name},
                "values": {"months": 3, "other_id": "510105199001010023"},
                "sources": [{"dataset": "payments", "file": "p.csv", "row": 1, "fields": fields}]}
    return {"model_id": model_id, "rule_id": rule_id, "clue_id": clue_id, "subject_type": "person",
            "subject_id": subject_id, "subject_name": name, "rank": rank, "score": score, "confidence": 1.0,
            "amount": Decimal(amount), "period_start": start, "period_end": end,
            "summary": f"{name}（身份证号 {subject_id}）领取 {amount} 元", "evidence": json.dumps(evidence, ensure_ascii=False)}


def write_run(runs: Path, run_id: str, rows: list[dict], states: dict[str, str] | None = None,
              models: list[str] | None = None) -> Path:
    """A run directory ``runs/run_id`` holding ``rows``; ``states``: clue_id → lifecycle (default new);
    ``models``: the models the run completed (default: those of the rows)."""
    run_dir = runs / run_id
    run_dir.mkdir(parents=True, exist_ok=True)
    table = pa.Table.from_pylist([{**r, "run_id": run_id} for r in rows], schema=CLUE_SCHEMA)
    pq.write_table(table, run_dir / "clues.parquet")
    states = states or {}
    pq.write_table(pa.Table.from_pylist([
        {"clue_id": r["clue_id"], "model_id": r["model_id"], "rule_id": r["rule_id"], "subject_id": r["subject_id"],
         "state": states.get(r["clue_id"], "new"), "first_seen_run": run_id, "last_seen_run": run_id} for r in rows],
        schema=pa.schema([(c, pa.string()) for c in ("clue_id", "model_id", "rule_id", "subject_id", "state",
                                                     "first_seen_run", "last_seen_run")])),
        run_dir / "clue_states.parquet")
    models = models if models is not None else sorted({r["model_id"] for r in rows})
    (run_dir / "manifest.json").write_text(json.dumps({
        "run_id": run_id, "models": [{"id": m, "status": "ok"} for m in models]}), encoding="utf-8")
    return run_dir

"""Check a published run against the generator's truth: every model and rule, and every dataset's accounting.

A run is right when, for every (model, rule) of the truth, precision, recall and amount accuracy are
1.0, confidences match where the truth states them and no pair of clues is ranked against its rank key
(``sample_data.evaluate``); and when every dataset's rows read, unreadable rows and exact duplicates
equal what the generator wrote.

Example::

    check = check_run(run_dir, truth)
    check.ok, check.problems[:3]
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow.parquet as pq

from sample_data.evaluate import evaluate, perfect, table


@dataclass
class TruthCheck:
    ok: bool
    clues: int
    expected: int
    problems: list[str] = field(default_factory=list)
    report: str = ""


def check_accounting(manifest: dict, truth: dict) -> list[str]:
    """Rows read / quarantined / duplicate per dataset against what the generator wrote."""
    problems = []
    found = {d["name"]: d for d in manifest["datasets"]}
    for name, expected in truth["datasets"].items():
        got = found.get(name)
        if got is None:
            problems.append(f"{name}: not ingested")
            continue
        for key, want in (("rows_read", expected["rows"]), ("rows_quarantined", expected["quarantined"]),
                          ("rows_duplicate", expected["duplicates"])):
            if got[key] != want:
                problems.append(f"{name}: {key} {got[key]}, expected {want}")
    return problems


def check_run(run_dir: Path, truth: dict) -> TruthCheck:
    manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    clues = pq.read_table(run_dir / "clues.parquet",
                          columns=["model_id", "rule_id", "subject_id", "amount", "confidence", "rank"]).to_pylist()
    report = evaluate(clues, truth)
    problems = [f"{model}/{rule}: expected {r['expected']}, found {r['found']}, precision {r['precision']:.4f}, "
                f"recall {r['recall']:.4f}, amounts {r['amount_accuracy']:.4f}, "
                f"{len(r['wrong_confidence'])} wrong confidences, {len(r['rank_inversions'])} rank inversions"
                for (model, rule), r in sorted(report.items()) if not perfect(r)]
    problems += [f"{m['id']}: {m['status']} ({m.get('reason')})" for m in manifest["models"] if m["status"] != "ok"]
    problems += check_accounting(manifest, truth)
    expected = sum(len(subjects) for rules in truth["models"].values() for subjects in rules.values())
    return TruthCheck(not problems, len(clues), expected, problems, table(report))

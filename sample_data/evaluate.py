"""Measure a run against the generator's truth: per model and rule, expected / found / precision /
recall / amount accuracy / confidence / ranking.

The truth (``truth.json``) is written by the scenarios from MODELS.md, never from the engine. Ranking
is checked against each expected clue's ``rank_key`` (MODELS.md's "Rank" line as numbers): of two
clues with different keys, the larger key must have the smaller rank.

    python -m sample_data.evaluate RUN_DIR [--truth DATA/truth.json]
"""

from __future__ import annotations

import argparse
import json
from decimal import Decimal
from pathlib import Path


def evaluate(clues: list[dict], truth: dict) -> dict[tuple[str, str], dict]:
    """Clue rows (as in clues.parquet) against the truth; one report per (model, rule) of the truth."""
    report = {}
    for model, rules in truth["models"].items():
        for rule, expected in rules.items():
            found = {c["subject_id"]: c for c in clues if c["model_id"] == model and c["rule_id"] == rule}
            hits = set(found) & set(expected)
            exact = [s for s in hits if expected[s]["amount"] is None
                     or (found[s]["amount"] is not None and Decimal(expected[s]["amount"]) == Decimal(
                         str(found[s]["amount"])).quantize(Decimal("0.01")))]
            wrong_confidence = sorted(s for s in hits if "confidence" in expected[s]
                                      and abs(found[s]["confidence"] - expected[s]["confidence"]) > 1e-9)
            report[(model, rule)] = {
                "expected": len(expected), "found": len(found),
                "precision": len(hits) / len(found) if found else 1.0,
                "recall": len(hits) / len(expected) if expected else 1.0,
                "amount_accuracy": len(exact) / len(hits) if hits else 1.0,
                "missing": sorted(set(expected) - set(found)), "extra": sorted(set(found) - set(expected)),
                "wrong_amount": sorted(hits - set(exact)), "wrong_confidence": wrong_confidence,
                "rank_inversions": rank_inversions({s: found[s]["rank"] for s in hits},
                                                   {s: expected[s].get("rank_key") for s in hits}),
            }
    return report


def rank_inversions(ranks: dict[str, int], keys: dict[str, list | None]) -> list[tuple[str, str]]:
    """Pairs (a, b) where a has the larger rank key but b is ranked first."""
    ordered = sorted((s for s in ranks if keys.get(s) is not None), key=lambda s: ranks[s])
    out = []
    best_so_far: tuple | None = None
    best_subject = None
    # Walking in rank order, every key must be ≤ every key before it; compare with the smallest so far.
    for s in ordered:
        key = tuple(keys[s])
        if best_so_far is not None and key > best_so_far:
            out.append((s, best_subject))
        if best_so_far is None or key < best_so_far:
            best_so_far, best_subject = key, s
    return out


def perfect(row: dict) -> bool:
    return (row["expected"] > 0 and (row["precision"], row["recall"], row["amount_accuracy"]) == (1.0, 1.0, 1.0)
            and not row["wrong_confidence"] and not row["rank_inversions"])


def table(report: dict[tuple[str, str], dict]) -> str:
    lines = [f"{'model':28} {'rule':20} {'expected':>8} {'found':>6} {'precision':>9} {'recall':>7} "
             f"{'amounts':>8} {'ranking':>8}"]
    for (model, rule), r in sorted(report.items()):
        lines.append(f"{model:28} {rule:20} {r['expected']:8d} {r['found']:6d} {r['precision']:9.3f} "
                     f"{r['recall']:7.3f} {r['amount_accuracy']:8.3f} "
                     f"{'ok' if not r['rank_inversions'] else str(len(r['rank_inversions'])) + ' inv':>8}")
        for what in ("missing", "extra", "wrong_amount", "wrong_confidence"):
            if r[what]:
                lines.append(f"    {what}: {', '.join(r[what][:5])}{' …' if len(r[what]) > 5 else ''}")
    return "\n".join(lines)


def main() -> None:
    import pyarrow.parquet as pq

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--truth", type=Path, help="truth.json (default: the data root named in the manifest)")
    args = parser.parse_args()
    manifest = json.loads((args.run_dir / "manifest.json").read_text(encoding="utf-8"))
    truth_path = args.truth or Path(manifest.get("data_root", ".")) / "truth.json"
    truth = json.loads(truth_path.read_text(encoding="utf-8"))
    report = evaluate(pq.read_table(args.run_dir / "clues.parquet").to_pylist(), truth)
    print(table(report))
    raise SystemExit(0 if all(perfect(r) for r in report.values()) else 1)


if __name__ == "__main__":
    main()

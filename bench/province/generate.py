"""Generate a province-scale data root with planted truth (cached by scale, seed and generator code).

Layout of ``bench/out/province/s<S>-seed<N>/``:

* ``parquet/`` — the data root of the nightly: all 17 datasets as Parquet (the two payment ledgers
  as one file per month), plus ``truth.json``;
* ``csv_utf8/pension_payments/*.csv`` and ``csv_gb18030/pension_payments/*.csv`` — the biggest
  dataset again as CSV, for the ingest figures;
* ``generated.json`` — what was generated, how long it took, and the fingerprint of the generator
  code; a root whose fingerprint differs from the current code is generated again.

``truth.json`` follows ``sample_data``'s format (read by ``sample_data.evaluate``): per model and rule
the expected subjects with their amounts (and confidence where the model defines one), and per
dataset the rows written, the unreadable rows and the exact duplicates.

    .venv/bin/python -m bench.province.generate --scale 0.01
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import time
from pathlib import Path

import numpy as np

from bench.province.benefits import Truth, benefit_tables
from bench.province.companies import company_tables
from bench.province.planted import Planted, plant
from bench.province.registers import person_registers
from bench.province.timeline import AS_OF, sizes
from bench.province.write import write_csv_copies, write_dataset
from engine.spec.catalog import load_catalogue
from sample_data.generate import REPO

OUT = REPO / "bench" / "out" / "province"
SEED = 20240630
MONTHLY = ("pension_payments", "dibao_payments")
CSV_DATASET = "pension_payments"  # the biggest dataset: the CSV ingest figures
HEADER_FORM = {  # which accepted header form each dataset's files use (monthly files rotate)
    "prison_roster": "alias", "dibao_payments": "zh", "pension_payments": "en", "death_records": "zh",
    "drug_users": "zh", "driver_licenses": "en", "criminal_judgments": "zh", "business_registry": "alias",
    "food_licenses": "en", "admin_penalties": "zh", "criminal_cases": "alias", "construction_permits": "zh",
    "wage_deposits": "zh", "wage_complaints": "zh", "lending_judgments": "en", "tax_filings": "en",
    "school_staff": "zh",
}
GENERATOR_MODULES = ("arrays", "population", "timeline", "benefits", "companies", "registers", "planted", "write",
                     "generate")
SOURCES = [REPO / "models" / "sources.yaml", *(REPO / "bench" / "province" / f"{m}.py" for m in GENERATOR_MODULES),
           *sorted((REPO / "sample_data").rglob("*.py"))]


def fingerprint() -> str:
    digest = hashlib.sha256()
    for path in SOURCES:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def root_for(scale: float, seed: int = SEED, work: Path = OUT) -> Path:
    return work / f"s{scale:g}-seed{seed}"


def _yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


def merged_truth(planted: Planted, mass: Truth) -> dict:
    """The sample generator's expected clues plus the mass-planted ones (never the same subject)."""
    models = json.loads(json.dumps(planted.truth, default=str))
    for model, subject, fen, confidence in zip(mass.model, mass.subject_id, mass.amount_fen, mass.confidence,
                                               strict=True):
        rule = models.setdefault(model, {}).setdefault("default", {})
        if subject in rule:
            raise AssertionError(f"{model}: subject {subject} planted twice")
        rule[subject] = {"amount": _yuan(fen)} | ({} if confidence is None else {"confidence": confidence})
    return models


def generate(scale: float, seed: int, root: Path, csv: bool = True) -> dict:
    """Write the data root for ``scale`` (≈ 100 M rows at 1) under ``root`` and return its summary; the CSV
    copies of the biggest dataset only with ``csv``."""
    started = time.perf_counter()
    shutil.rmtree(root, ignore_errors=True)
    data = root / "parquet"
    data.mkdir(parents=True)
    catalogue = load_catalogue(REPO / "models" / "sources.yaml")
    counts = sizes(scale)
    rng = np.random.default_rng(seed)
    planted = plant(seed)
    datasets: dict[str, dict] = {}

    def write(tables: dict) -> None:
        for name, table in tables.items():
            rows = write_dataset(data, catalogue.dataset(name), table, planted.tables.get(name), name in MONTHLY,
                                 HEADER_FORM[name])
            datasets[name] = {"rows": rows, "quarantined": planted.quarantined.get(name, 0),
                              "duplicates": planted.duplicates.get(name, 0)}

    benefits, mass = benefit_tables(rng, counts)
    write(benefits)
    del benefits  # the largest tables: freed before the next group is made
    write(company_tables(rng, counts))
    write(person_registers(rng, counts))
    truth = {"seed": seed, "scale": scale, "as_of": AS_OF.isoformat(), "models": merged_truth(planted, mass),
             "datasets": datasets, "rows_total": sum(d["rows"] for d in datasets.values())}
    (data / "truth.json").write_text(json.dumps(truth, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    parquet_seconds = time.perf_counter() - started
    csv_rows = write_csv_copies(data / CSV_DATASET, root / "csv_utf8" / CSV_DATASET,
                                root / "csv_gb18030" / CSV_DATASET) if csv else None
    summary = {"scale": scale, "seed": seed, "fingerprint": fingerprint(), "rows_total": truth["rows_total"],
               "clues_expected": sum(len(s) for rules in truth["models"].values() for s in rules.values()),
               "csv_dataset": CSV_DATASET, "csv_rows": csv_rows, "parquet_seconds": round(parquet_seconds, 1),
               "seconds": round(time.perf_counter() - started, 1)}
    (root / "generated.json").write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")
    return summary


def cached(root: Path, csv: bool = True) -> dict | None:
    """The summary of an up-to-date generated root (with its CSV copies when ``csv``), or None."""
    marker = root / "generated.json"
    if not marker.exists():
        return None
    summary = json.loads(marker.read_text(encoding="utf-8"))
    fresh = summary.get("fingerprint") == fingerprint() and (not csv or summary.get("csv_rows") is not None)
    return summary if fresh else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, required=True)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--work", type=Path, default=OUT, help="where generated roots are cached")
    parser.add_argument("--no-csv", action="store_true", help="no CSV copies of the biggest dataset")
    args = parser.parse_args()
    root = root_for(args.scale, args.seed, args.work)
    csv = not args.no_csv
    print(json.dumps(cached(root, csv) or generate(args.scale, args.seed, root, csv)))


if __name__ == "__main__":
    main()

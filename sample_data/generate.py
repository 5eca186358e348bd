"""The sample data root: seeded, messy, with planted violations and a truth file.

``generate(root, seed)`` writes one file (or folder) per dataset under
``root`` in the formats agencies really send (GB18030 and UTF-8 CSV, monthly
folders, XLSX with date cells and serial numbers, Parquet; Chinese or English
headers), plus ``truth.json``: for every model and rule the subjects that must
be found, with their amounts to the fen, and for every dataset how many rows
are unreadable and how many are exact duplicates.

The truth is written by the scenarios that plant each case — an independent
statement of MODELS.md, never the engine's output. Background people appear
only in datasets where they cannot trigger a rule, so the planted cases are
exactly the clues. Same seed, same files (byte for byte).

    python -m sample_data.generate --out sample_data/generated --seed 20240630
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import shutil
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from engine.spec.catalog import Catalogue, load_catalogue
from sample_data import scenarios
from sample_data.messy import Messer, headers_for, write_csv, write_json, write_parquet, write_xlsx
from sample_data.orgs import OrgFactory
from sample_data.people import Population

AS_OF = dt.date(2024, 6, 30)
FIRST_MONTH = dt.date(2022, 1, 1)
REPO = Path(__file__).resolve().parent.parent


@dataclass
class Build:
    """Rows per dataset (clean values) and the expected clues, filled by the scenarios."""

    rng: random.Random
    pop: Population
    catalogue: Catalogue
    scale: int
    orgs: OrgFactory
    rows: dict[str, list[dict]] = field(default_factory=dict)
    truth: dict[str, dict[str, dict[str, dict]]] = field(default_factory=dict)
    counters: dict[str, int] = field(default_factory=dict)

    def add(self, dataset: str, **cells) -> dict:
        unknown = set(cells) - set(self.catalogue.dataset(dataset).column_names)
        if unknown:
            raise KeyError(f"{dataset} has no column(s) {sorted(unknown)}")
        self.rows.setdefault(dataset, []).append(cells)
        return cells

    def next_id(self, prefix: str) -> str:
        self.counters[prefix] = self.counters.get(prefix, 0) + 1
        return f"{prefix}{self.counters[prefix]:07d}"

    def expect(self, model: str, subject_id: str, amount: Decimal | None = None, rule: str = "default",
               **extra) -> None:
        entry = self.truth.setdefault(model, {}).setdefault(rule, {}).setdefault(subject_id, {"amount": None})
        if amount is not None:
            entry["amount"] = str((Decimal(entry["amount"] or 0) + amount).quantize(Decimal("0.01")))
        entry.update(extra)


# Where and how each dataset is written: (format, options). Every form DATASETS.md allows occurs:
# GB18030 and UTF-8 (with and without BOM) CSV, a dataset split into monthly files, XLSX (date cells,
# serial numbers), Parquet; Chinese and English headers; an extra column; blank lines.
LAYOUT = {
    "prison_roster": ("csv", {"encoding": "gb18030", "headers": "zh", "blank_lines": 2, "extra": "备注"}),
    "dibao_payments": ("monthly_csv", {"headers": "zh"}),
    "pension_payments": ("parquet", {"headers": "en"}),
    "death_records": ("xlsx", {"headers": "zh"}),
    "drug_users": ("csv", {"encoding": "utf-8", "bom": True, "headers": "zh"}),
    "driver_licenses": ("xlsx", {"headers": "en"}),
    "criminal_judgments": ("csv", {"encoding": "gb18030", "headers": "zh", "extra": "审判法院"}),
    "business_registry": ("parquet", {"headers": "zh"}),
    "food_licenses": ("csv", {"encoding": "utf-8", "headers": "en", "blank_lines": 1}),
    "admin_penalties": ("xlsx", {"headers": "zh"}),
    "criminal_cases": ("csv", {"encoding": "gb18030", "headers": "zh"}),
    "construction_permits": ("csv", {"encoding": "utf-8", "bom": True, "headers": "zh"}),
    "wage_deposits": ("xlsx", {"headers": "zh"}),
    "wage_complaints": ("csv", {"encoding": "gb18030", "headers": "zh"}),
    "lending_judgments": ("parquet", {"headers": "en"}),
    "tax_filings": ("csv", {"encoding": "utf-8", "headers": "en"}),
    "school_staff": ("xlsx", {"headers": "zh"}),
}

# Unreadable rows injected per dataset: (column, bad raw value[, only rows where these cells hold]).
# A copy of a real row with one cell broken: quarantined, so it never changes a clue.
BROKEN = {
    "prison_roster": [("admitted_on", "2023-13-45"), ("sentence", "", {"custody_type": "已决"})],
    "dibao_payments": [("amount", "约五千"), ("pay_month", "2023-13"), ("amount", "一千二")],
    "pension_payments": [("pension_type", "未知"), ("pay_month", "两千年")],
    "death_records": [("source", "派出所口头"), ("death_date", "2023-02-30")],
    "drug_users": [("measure_start", "", {"measure": "社区戒毒"}), ("found_on", "去年")],
    "driver_licenses": [("status", "待审"), ("issued_on", "2019-02-29")],
    "criminal_judgments": [("sentence", "罚款"), ("effective_on", "")],
    "business_registry": [("status", "歇业整顿"), ("registered_on", "1999-00-10")],
    "food_licenses": [("valid_until", "长期有效"), ("status", "暂停")],
    "admin_penalties": [("amount_involved", "约十万"), ("transferred", "待定")],
    "criminal_cases": [("filed_on", "2023年13月1日")],
    "construction_permits": [("contract_amount", "面议")],
    "wage_deposits": [("guarantee_expires_on", "", {"form": "银行保函"}), ("amount", "五十万")],
    "wage_complaints": [("workers", "十余人"), ("status", "处理中")],
    "lending_judgments": [("interest_received", "若干")],
    "tax_filings": [("tax_year", "二〇二二"), ("income_type", "工资薪金所得")],
    "school_staff": [("employment_status", "借调"), ("hired_on", "2020/02/30")],
}
DUPLICATES = {"prison_roster": 2, "dibao_payments": 3, "pension_payments": 2, "death_records": 1, "drug_users": 1,
              "driver_licenses": 2, "criminal_judgments": 1, "business_registry": 1, "food_licenses": 1,
              "admin_penalties": 2, "criminal_cases": 1, "construction_permits": 1, "wage_deposits": 1,
              "wage_complaints": 1, "lending_judgments": 2, "tax_filings": 1, "school_staff": 1}


def _render(build: Build, dataset: str, row: dict, mess: Messer, xlsx: bool) -> list:
    spec = build.catalogue.dataset(dataset)
    cells = []
    for column in spec.columns:
        value = row.get(column.name)
        kind = column.type
        if isinstance(value, str) and kind in ("date", "month", "amount", "int"):
            cells.append(value)  # already raw (e.g. a deliberately broken cell)
        elif kind == "id_cn" or (kind == "party_id" and _looks_like_id(value)):
            cells.append(mess.id_number(value or ""))
        elif kind in ("credit_code", "party_id"):
            cells.append(mess.credit_code(value or ""))
        elif kind == "name_zh" or (kind == "party_name" and len(value or "") <= 4):
            cells.append(mess.name(value or ""))
        elif kind in ("org_name", "party_name"):
            cells.append(mess.org_name(value or ""))
        elif kind == "date" and xlsx and value is not None and mess.rng.random() < 0.8:
            # A real date cell, or (sometimes) the bare Excel serial number.
            cells.append((value - dt.date(1899, 12, 30)).days if mess.rng.random() < 0.25 else value)
        elif kind == "date":
            cells.append(mess.date(value))
        elif kind == "month":
            cells.append(mess.month(value))
        elif kind == "amount":
            cells.append(mess.amount(value))
        elif value is None:
            cells.append("")
        else:
            cells.append(str(value))
    return cells


def _write(build: Build, root: Path, dataset: str, mess: Messer) -> dict:
    spec = build.catalogue.dataset(dataset)
    kind, options = LAYOUT[dataset]
    rows = list(build.rows.get(dataset, []))
    build.rng.shuffle(rows)
    rendered = [_render(build, dataset, r, mess, kind == "xlsx") for r in rows]
    months = [r.get("pay_month") for r in rows]  # for monthly files
    # Unreadable rows: a clean background-like row with one broken cell.
    broken = []
    for column, bad, *only in BROKEN.get(dataset, []):
        fits = [r for r in rows if all(r.get(k) == v for k, v in (only[0] if only else {}).items())]
        template = dict(build.rng.choice(fits))
        template[column] = bad
        broken.append(_render(build, dataset, template, mess, False))
    header = headers_for(spec, options.get("headers", "zh"))
    if options.get("extra"):  # an extra column, kept but unused (and part of what makes rows equal)
        header = [*header, options["extra"]]
        rendered = [[*r, build.rng.choice(["", "", "复核", "已核实"])] for r in rendered]
        broken = [[*b, ""] for b in broken]
    duplicates = DUPLICATES.get(dataset, 0)
    copies = [list(build.rng.choice(rendered)) for _ in range(duplicates)]
    for row in broken + copies:
        at = build.rng.randrange(len(rendered) + 1)
        rendered.insert(at, row)
        months.insert(at, months[min(at, len(months) - 1)])
    if kind == "csv":
        write_csv(root / f"{dataset}.csv", header, rendered, encoding=options.get("encoding", "utf-8"),
                  bom=options.get("bom", False), blank_lines=options.get("blank_lines", 0), rng=build.rng)
    elif kind == "xlsx":
        write_xlsx(root / f"{dataset}.xlsx", header, rendered)
    elif kind == "parquet":
        write_parquet(root / f"{dataset}.parquet", header, [[_as_text(c) for c in r] for r in rendered])
    elif kind == "monthly_csv":
        _write_monthly(root, dataset, spec, rendered, months, build.rng)
    return {"format": kind, "headers": options.get("headers", "zh"),
            "encoding": options.get("encoding", "utf-8") if kind in ("csv", "monthly_csv") else None,
            "rows": len(rendered), "quarantined": len(broken), "duplicates": duplicates}


def _looks_like_id(value: str | None) -> bool:
    return bool(value) and len(value) == 18 and value[:17].isdigit()


def _as_text(value) -> str:
    return value.isoformat() if isinstance(value, dt.date) else str(value)


def _write_monthly(root: Path, dataset: str, spec, rendered: list[list], months: list, rng: random.Random) -> None:
    """One file per payment month (read as one table), encodings and header languages varying by file."""
    folder = root / dataset
    folder.mkdir(parents=True, exist_ok=True)
    by_month: dict = {}
    for row, month in zip(rendered, months, strict=True):
        by_month.setdefault(month, []).append(row)
    variants = [("utf-8", True, "zh"), ("gb18030", False, "zh"), ("utf-8", False, "en"), ("gb18030", False, "zh")]
    for i, month in enumerate(sorted(by_month)):
        encoding, bom, language = variants[i % len(variants)]
        write_csv(folder / f"{month:%Y-%m}.csv", headers_for(spec, language), by_month[month], encoding=encoding,
                  bom=bom, blank_lines=1 if i % 7 == 3 else 0, rng=rng)


def generate(root: Path, seed: int = 20240630, scale: int = 2000) -> dict:
    """Write the sample data root and its truth file; returns the truth."""
    root = Path(root)
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    rng = random.Random(seed)
    catalogue = load_catalogue(REPO / "models" / "sources.yaml")
    build = Build(rng, Population(rng), catalogue, scale, OrgFactory(rng))
    scenarios.plant_all(build, AS_OF, FIRST_MONTH)
    mess = Messer(random.Random(seed + 1))
    datasets = {name: _write(build, root, name, mess) for name in LAYOUT if name in build.rows}
    truth = {"seed": seed, "scale": scale, "as_of": AS_OF.isoformat(), "models": build.truth, "datasets": datasets}
    write_json(root / "truth.json", truth)
    return truth


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "sample_data" / "generated")
    parser.add_argument("--seed", type=int, default=20240630)
    parser.add_argument("--scale", type=int, default=2000)
    args = parser.parse_args()
    truth = generate(args.out, args.seed, args.scale)
    print(f"wrote {args.out} ({len(truth['datasets'])} datasets)")


if __name__ == "__main__":
    main()

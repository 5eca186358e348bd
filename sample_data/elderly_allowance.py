"""Agency files for the worked example of a dataset added without code (docs/examples/elderly_allowance):
six monthly 高龄津贴发放明细 exports (January–June 2024) written into an existing sample data root, with
planted truth.

The people come from the data root itself, read through the engine's own ingest (so their ID numbers
are the normalised ones the models see): ``deceased`` people who died before 2024 are paid every month —
each is a clue of six months; ``died_in_window`` people who died between January and May 2024 are paid only up to
their death month — no clue; ``living`` pensioners with no death record are paid every month — no clue. The
files are what an agency sends: Chinese headers, one month in GB18030, one month with an alias header and
a row cut short (quarantined), the rest UTF-8.

Example::

    truth = write_elderly_allowance(Path("sample_data/generated"), Path("/tmp/ea-staging"))
    truth["clues"]          # {id_number: amount} the model must find
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import polars as pl

from engine.project import Project

MONTHS = [dt.date(2024, m, 1) for m in range(1, 7)]
AMOUNT = 200
HEADER = ["发放流水号", "姓名", "身份证号", "区县", "发放月份", "发放金额"]
ALIAS_HEADER = ["发放流水号", "老人姓名", "公民身份号码", "区县", "发放月份", "津贴金额"]


def _people(data_root: Path, out_dir: Path) -> tuple[pl.DataFrame, pl.DataFrame]:
    ingested = Project(data_dir=data_root, out_dir=out_dir).ingest(["death_records", "pension_payments"])
    deaths = pl.read_parquet(ingested.dataset("death_records").staged).filter(pl.col("id_number_valid"))
    deaths = deaths.group_by("id_number").agg(pl.col("person_name").first(), pl.col("death_date").min())
    pensions = pl.read_parquet(ingested.dataset("pension_payments").staged).filter(pl.col("id_number_valid"))
    living = (pensions.join(deaths, on="id_number", how="anti").select("id_number", "person_name")
              .unique("id_number").sort("id_number"))
    return deaths.sort("id_number"), living


def write_elderly_allowance(data_root: Path, out_dir: Path, deceased: int = 6, died_in_window: int = 2,
                            living: int = 30) -> dict:
    """Write ``data_root/elderly_allowance/2024-MM.csv``; ``out_dir``: where the ingest used to find the
    people stages its files. Returns the truth: ``{"clues": {id: amount}, "no_clue": [ids], "rows": n,
    "quarantined": n}``."""
    deaths, alive = _people(Path(data_root), Path(out_dir))
    early = deaths.filter(pl.col("death_date") < dt.date(2023, 12, 1)).head(deceased)
    late = deaths.filter(pl.col("death_date").is_between(MONTHS[0], dt.date(2024, 5, 31))).head(died_in_window)
    alive = alive.head(living)
    if (early.height, late.height, alive.height) != (deceased, died_in_window, living):
        raise ValueError(f"{data_root} has too few people for the example (deaths before December 2023: "
                         f"{early.height}, January to May 2024: {late.height}, living pensioners: {alive.height})")
    paid = {m: [] for m in MONTHS}
    for person in [*early.iter_rows(named=True), *alive.iter_rows(named=True)]:
        for m in MONTHS:
            paid[m].append(person)
    for person in late.iter_rows(named=True):
        for m in MONTHS[:person["death_date"].month]:  # up to and including the death month, still due
            paid[m].append(person)
    folder = Path(data_root) / "elderly_allowance"
    folder.mkdir(parents=True, exist_ok=True)
    rows = 0
    for i, month in enumerate(MONTHS):
        header = ALIAS_HEADER if i == 2 else HEADER
        lines = [header] + [[f"GL{i + 1:02d}{n:05d}", p["person_name"], p["id_number"], "锦江区",
                             f"{month.year}年{month.month}月" if i == 4 else month.strftime("%Y-%m"), f"{AMOUNT}.00"]
                            for n, p in enumerate(paid[month])]
        if i == 2:
            lines.append(["GL0399999", "半行"])  # cut short in the export: quarantined, counted
        rows += len(lines) - 1
        text = io.StringIO(newline="")
        csv.writer(text, lineterminator="\r\n").writerows(lines)
        (folder / f"{month:%Y-%m}.csv").write_bytes(text.getvalue().encode("gb18030" if i == 1 else "utf-8"))
    return {"clues": {p["id_number"]: AMOUNT * len(MONTHS) for p in early.iter_rows(named=True)},
            "no_clue": sorted([*late["id_number"], *alive["id_number"]]), "rows": rows, "quarantined": 1}

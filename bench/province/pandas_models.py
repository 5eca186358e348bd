"""M01–M04 the way an analyst writes them today: pandas over the staged tables.

Straightforward pandas — read the columns, filter, ``merge``, ``groupby`` — with the same rules as the
models (custody spells merged when they overlap or touch; the months strictly inside a custody period;
the months after the death month; M01's one-character ID typos matched to exactly one roster person
of the same name). ``load`` reads and types the frames (amounts as float, dates as datetime64); each
model function returns ``{subject_id: amount}``, compared with the engine's clues by the harness.

Example::

    frames = load(staging_dir)
    amounts = MODELS["deceased_pension"](frames)
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from rapidfuzz.distance import DamerauLevenshtein

SENTENCES_M02 = ("拘役", "有期徒刑", "无期徒刑", "死刑缓期执行")
COLUMNS = {
    "prison_roster": ["person_name", "id_number", "id_number_valid", "custody_type", "sentence", "admitted_on",
                      "released_on"],
    "dibao_payments": ["_rid", "person_name", "id_number", "id_number_valid", "pay_month", "amount"],
    "pension_payments": ["id_number", "id_number_valid", "pay_month", "amount"],
    "death_records": ["id_number", "id_number_valid", "death_date"],
}
OPEN_END = pd.Timestamp("2200-01-01")


def load(staging_datasets: Path) -> dict[str, pd.DataFrame]:
    frames = {}
    for name, columns in COLUMNS.items():
        frame = pd.read_parquet(staging_datasets / f"{name}.parquet", columns=columns)
        for column in ("admitted_on", "released_on", "pay_month", "death_date"):
            if column in frame:
                frame[column] = pd.to_datetime(frame[column])
        if "amount" in frame:
            frame["amount"] = frame["amount"].astype(float)
        frames[name] = frame
    return frames


def custody_periods(spells: pd.DataFrame) -> pd.DataFrame:
    """id_number, start, end (OPEN_END when still in custody): overlapping or touching spells merged."""
    s = spells[["id_number", "admitted_on", "released_on"]].copy()
    s["end"] = s["released_on"].fillna(OPEN_END)
    s = s.sort_values(["id_number", "admitted_on", "end"])
    previous_end = s.groupby("id_number")["end"].cummax().groupby(s["id_number"]).shift()
    starts_island = previous_end.isna() | (s["admitted_on"] > previous_end + pd.Timedelta(days=1))
    s["island"] = starts_island.astype(int).groupby(s["id_number"]).cumsum()
    return s.groupby(["id_number", "island"], as_index=False).agg(start=("admitted_on", "min"), end=("end", "max"))


def _strictly_inside(payments: pd.DataFrame, periods: pd.DataFrame, owner: str) -> dict[str, float]:
    joined = payments.merge(periods, left_on=owner, right_on="id_number", suffixes=("", "_period"))
    month = joined["pay_month"]
    inside = (joined["start"].dt.to_period("M").dt.to_timestamp() < month) & (
        month < joined["end"].dt.to_period("M").dt.to_timestamp())
    return joined[inside].groupby(owner)["amount"].sum().to_dict()


def prisoner_dibao(f: dict[str, pd.DataFrame]) -> dict[str, float]:
    roster, payments = f["prison_roster"], f["dibao_payments"]
    valid_roster = roster[roster["id_number_valid"]]
    periods = custody_periods(valid_roster[valid_roster["custody_type"] == "已决"])
    # Invalid IDs: one edit (substitution or neighbour swap) from exactly one roster person of the same name.
    people = valid_roster[["id_number", "person_name"]].drop_duplicates()
    typos = payments[~payments["id_number_valid"]][["_rid", "person_name", "id_number"]].merge(
        people, on="person_name", suffixes=("", "_roster"))
    same_length = typos["id_number"].str.len() == typos["id_number_roster"].str.len()
    typos = typos[same_length]
    one_edit = [DamerauLevenshtein.distance(a, b) == 1
                for a, b in zip(typos["id_number"], typos["id_number_roster"], strict=True)]
    typos = typos[one_edit]
    typos = typos[typos.groupby("_rid")["_rid"].transform("size") == 1]
    owned = payments.merge(typos[["_rid", "id_number_roster"]], on="_rid", how="left")
    owned = owned[owned["id_number_valid"] | owned["id_number_roster"].notna()]
    owned["owner"] = owned["id_number_roster"].fillna(owned["id_number"])
    return _strictly_inside(owned, periods, "owner")


def prisoner_pension(f: dict[str, pd.DataFrame]) -> dict[str, float]:
    roster, payments = f["prison_roster"], f["pension_payments"]
    held = roster["id_number_valid"] & ((roster["custody_type"] == "未决") | (
        (roster["custody_type"] == "已决") & roster["sentence"].isin(SENTENCES_M02)))
    return _strictly_inside(payments[payments["id_number_valid"]], custody_periods(roster[held]), "id_number")


def _deceased(payments: pd.DataFrame, deaths: pd.DataFrame) -> dict[str, float]:
    died = deaths[deaths["id_number_valid"]].groupby("id_number", as_index=False)["death_date"].min()
    joined = payments[payments["id_number_valid"]].merge(died, on="id_number")
    after = joined["pay_month"] > joined["death_date"].dt.to_period("M").dt.to_timestamp()
    return joined[after].groupby("id_number")["amount"].sum().to_dict()


MODELS = {
    "prisoner_dibao": prisoner_dibao,
    "prisoner_pension": prisoner_pension,
    "deceased_pension": lambda f: _deceased(f["pension_payments"], f["death_records"]),
    "deceased_dibao": lambda f: _deceased(f["dibao_payments"], f["death_records"]),
}

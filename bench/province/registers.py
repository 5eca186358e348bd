"""Registers of persons at province scale: driving licences and drug users (M05), criminal judgments and
school staff (M06, M10), enforced loan interest and tax filings (M09).

Lawful by construction:

* **M05** — drivers who never used drugs; drug users without a licence; and drug users *with* one whose
  licence was cancelled or revoked (the office did its job), or who have only a finding without any
  measure, after a licence issued before it (neither rule can fire).
* **M06 / M10** — convicts are their own role of the population: no staff member or legal
  representative shares their ID number, and judgments without an ID number carry only charges
  outside both models' lists (so the name-and-birth-date fallback can never matter).
* **M09** — per creditor and year: interest under 10 000 yuan, or a year whose declaration deadline
  (30 June of the next year) has not passed, or interest fully declared as 利息、股息、红利所得.

Example::

    tables = person_registers(np.random.default_rng(7), sizes(0.001))
    tables["driver_licenses"].num_rows
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from bench.province.arrays import join, nulls_where, serials, years
from bench.province.population import person_table
from bench.province.timeline import AS_OF64, add_years, dates, random_days

CLASSES = np.array(["C1", "C1", "C1", "C2", "B2", "A2", "A1", "B1", "D", "C1E"])
LICENCE_STATUS = (np.array(["正常", "注销", "吊销", "暂扣", "停止使用"]), [0.9, 0.04, 0.02, 0.02, 0.02])
MEASURES = np.array(["无", "社区戒毒", "强制隔离戒毒", "社区康复"])
UNRELATED = np.array(["盗窃罪", "诈骗罪", "故意伤害罪", "危险驾驶罪", "交通肇事罪", "寻衅滋事罪", "开设赌场罪",
                      "非法持有毒品罪"])
LISTED = np.array(["生产、销售不符合安全标准的食品罪", "生产、销售有毒、有害食品罪", "猥亵儿童罪", "强奸罪",
                   "强制猥亵、侮辱罪", "拐卖妇女、儿童罪", "组织卖淫罪", "虐待被监护、看护人罪"])
SENTENCES = np.array(["有期徒刑", "有期徒刑", "拘役", "管制", "单处罚金", "免予刑事处罚", "无期徒刑"])
COURTS = np.array(["0302", "0321", "0421", "3221", "3325", "3401", "3422", "3431"])
INSTITUTIONS = np.array(["金堂县实验小学", "荣县中学", "米易县第一幼儿园", "西昌市阳光培训学校", "康定市民族中学",
                         "会理市启智教育培训中心", "马尔康市第二小学", "盐边县职业中学"])
POSITIONS = np.array(["教师", "教师", "班主任", "保安", "校车司机", "保育员", "宿管员", "食堂员工", "教练"])
INTEREST = "利息、股息、红利所得"
OTHER_INCOME = np.array(["财产转让所得", "偶然所得", "财产租赁所得"])


def _choice(rng: np.random.Generator, values: tuple[np.ndarray, list[float]] | np.ndarray, n: int) -> pa.Array:
    if isinstance(values, tuple):
        return pa.array(rng.choice(values[0], size=n, p=values[1]))
    return pa.array(values[rng.integers(0, len(values), size=n)])


def _drivers_and_drug_users(rng: np.random.Generator, counts: dict[str, int]) -> tuple[pa.Table, pa.Table]:
    n_records = counts["drug_users"]
    users_n = max(round(n_records / 1.1), 1)
    users = person_table(rng, "drug", users_n, born=(1965, 1998))
    kind = rng.choice(3, size=users_n, p=[0.8, 0.1, 0.1])  # no licence, licence cancelled, finding after licence
    found = random_days(rng, users_n, "2012-01-01", AS_OF64 - 1)
    measure = np.where(kind == 2, "无", MEASURES[rng.integers(0, 4, size=users_n)])
    start = np.where(measure == "无", np.datetime64("NaT"), found + rng.integers(0, 30, size=users_n))
    end = np.where(rng.random(users_n) < 0.5, add_years(start, 2), np.datetime64("NaT"))
    again = ((kind != 2) & (rng.random(users_n) < 0.1)).nonzero()[0]  # a second, earlier record
    found2 = found[again] - rng.integers(400, 3000, size=len(again)).astype("timedelta64[D]")
    owners = np.concatenate([np.arange(users_n), again])
    chosen = users.take(owners)
    drug_users = pa.table({
        "person_name": chosen["person_name"], "id_number": chosen["id_number"],
        "found_on": dates(np.concatenate([found, found2])),
        "measure": pa.array(np.concatenate([measure, np.full(len(again), "无")])),
        "measure_start": dates(np.concatenate([start, np.full(len(again), np.datetime64("NaT"))])),
        "measure_end": dates(np.concatenate([np.where(np.isnat(start), np.datetime64("NaT"), end),
                                             np.full(len(again), np.datetime64("NaT"))])),
    })
    # Licences of drug users: issued before the finding; cancelled/revoked (kind 1) or lawful (kind 2).
    holders = (kind != 0).nonzero()[0]
    issued_users = found[holders] - rng.integers(30, 4000, size=len(holders)).astype("timedelta64[D]")
    status_users = np.where(kind[holders] == 1, np.array(["注销", "吊销"])[rng.integers(0, 2, size=len(holders))],
                            "正常")
    drivers_n = max(round(counts["driver_licenses"] / 1.05) - len(holders), 1)
    drivers = person_table(rng, "driver", drivers_n, born=(1950, 2006))
    second = (rng.random(drivers_n) < 0.05).nonzero()[0]
    driver_owner = np.concatenate([np.arange(drivers_n), second])
    issued = random_days(rng, len(driver_owner), "1995-01-01", AS_OF64 - 1)
    status = rng.choice(LICENCE_STATUS[0], size=len(driver_owner), p=LICENCE_STATUS[1])
    valid = add_years(issued, 6)
    renewed = rng.random(len(driver_owner)) < 0.8
    valid = np.where(renewed, add_years(issued, 16), valid)
    every_issued = np.concatenate([issued, issued_users])
    holders_table = pa.concat_tables([drivers.take(driver_owner), users.take(holders)])
    licences = pa.table({
        "license_no": serials("JSB", np.arange(holders_table.num_rows), 10),
        "person_name": holders_table["person_name"], "id_number": holders_table["id_number"],
        "license_class": _choice(rng, CLASSES, holders_table.num_rows),
        "status": pa.array(np.concatenate([status, status_users])),
        "issued_on": dates(every_issued),
        "valid_until": dates(np.concatenate([valid, add_years(issued_users, 16)])),
    })
    return licences, drug_users


def _judgments(rng: np.random.Generator, counts: dict[str, int]) -> pa.Table:
    n = counts["criminal_judgments"]
    convicts = person_table(rng, "convict", max(round(n / 1.1), 1), born=(1950, 2004))
    who = np.concatenate([np.arange(convicts.num_rows), rng.integers(0, convicts.num_rows,
                                                                     size=max(n - convicts.num_rows, 0))])
    chosen = convicts.take(who)
    without_id = rng.random(len(who)) < 0.25
    charge = np.where(without_id | (rng.random(len(who)) < 0.6), UNRELATED[rng.integers(0, len(UNRELATED),
                                                                                          size=len(who))],
                      LISTED[rng.integers(0, len(LISTED), size=len(who))])
    sentence = SENTENCES[rng.integers(0, len(SENTENCES), size=len(who))]
    probation = np.where(np.isin(sentence, ["有期徒刑", "拘役"]) & (rng.random(len(who)) < 0.3), "是", "否")
    effective = random_days(rng, len(who), "2006-01-01", AS_OF64 - 60)
    return pa.table({
        "case_no": join("（", years(effective), "）川", COURTS[rng.integers(0, len(COURTS), size=len(who))],
                        "刑初B", serials("", np.arange(len(who)), 7), "号"),
        "defendant_name": chosen["person_name"], "id_number": nulls_where(without_id, chosen["id_number"]),
        "birth_date": chosen["birth_date"], "charge": pa.array(charge), "sentence": pa.array(sentence),
        "probation": pa.array(probation), "effective_on": dates(effective),
    })


def _school_staff(rng: np.random.Generator, counts: dict[str, int]) -> pa.Table:
    n = counts["school_staff"]
    staff = person_table(rng, "staff", n, born=(1960, 2002))
    return pa.table({
        "staff_id": serials("GHB", np.arange(n), 9), "institution": _choice(rng, INSTITUTIONS, n),
        "person_name": staff["person_name"], "id_number": staff["id_number"],
        "position": _choice(rng, POSITIONS, n), "hired_on": dates(random_days(rng, n, "2000-09-01", AS_OF64 - 30)),
        "employment_status": pa.array(np.where(rng.random(n) < 0.85, "在职", "离职")),
    })


def _lending_and_tax(rng: np.random.Generator, counts: dict[str, int]) -> tuple[pa.Table, pa.Table]:
    """Receipts of one year per creditor: small (under 10 000), not yet due (2023, 2024), or declared."""
    n_receipts = counts["lending_judgments"]
    creditors_n = max(n_receipts // 2, 1)
    creditors = person_table(rng, "creditor", creditors_n, born=(1945, 1995))
    kind = rng.choice(3, size=creditors_n, p=[0.6, 0.2, 0.2])  # small, not due, declared
    year = np.where(kind == 1, rng.integers(2023, 2025, size=creditors_n), rng.integers(2019, 2023, size=creditors_n))
    parts = rng.integers(1, 4, size=creditors_n)
    owner = np.repeat(np.arange(creditors_n), parts)
    year_start = (year[owner] - 1970).astype("datetime64[Y]").astype("datetime64[D]")
    received = np.minimum(year_start + rng.integers(0, 365, size=len(owner)).astype("timedelta64[D]"), AS_OF64)
    fen = np.where(kind[owner] == 0, rng.integers(10_000, 333_300, size=len(owner)),
                   rng.integers(500_000, 5_000_000, size=len(owner)))
    chosen = creditors.take(owner)
    lending = pa.table({
        "case_no": join("（", years(received), "）川0302执B", serials("", np.arange(len(owner)), 8), "号"),
        "creditor_name": chosen["person_name"], "creditor_id": chosen["id_number"],
        "interest_received": pa.array(fen), "received_on": dates(received),
    })
    # Declarations covering the declared creditors' interest, then other taxpayers (one or two years).
    declared = (kind == 2).nonzero()[0]
    total = np.bincount(owner, weights=fen, minlength=creditors_n).astype(np.int64)
    others_n = max(counts["tax_filings"] - len(declared), 1)
    taxpayers = person_table(rng, "taxpayer", max(round(others_n / 1.3), 1), born=(1945, 2000))
    extra = min(max(others_n - taxpayers.num_rows, 0), taxpayers.num_rows)  # a second year, never the same row
    who = np.concatenate([np.arange(taxpayers.num_rows), rng.choice(taxpayers.num_rows, size=extra, replace=False)])
    first = np.zeros(len(who), dtype=bool)
    first[:taxpayers.num_rows] = True
    tax_year = np.where(first, 2021, 2022) - rng.integers(0, 2, size=len(who)) * 2  # distinct per taxpayer
    income_type = np.where(rng.random(len(who)) < 0.4, INTEREST, OTHER_INCOME[rng.integers(0, 3, size=len(who))])
    income = rng.integers(50_000, 20_000_000, size=len(who))
    filers = pa.concat_tables([creditors.take(declared), taxpayers.take(who)])
    income_all = np.concatenate([total[declared] + rng.integers(0, 300_000, size=len(declared)), income])
    tax = pa.table({
        "taxpayer_name": filers["person_name"], "taxpayer_id": filers["id_number"],
        "tax_year": pa.array(np.concatenate([year[declared], tax_year])),
        "income_type": pa.array(np.concatenate([np.full(len(declared), INTEREST), income_type])),
        "income_amount": pa.array(income_all), "tax_paid": pa.array(income_all // 5),
    })
    return lending, tax


def person_registers(rng: np.random.Generator, counts: dict[str, int]) -> dict[str, pa.Table]:
    licences, drug_users = _drivers_and_drug_users(rng, counts)
    lending, tax = _lending_and_tax(rng, counts)
    return {"driver_licenses": licences, "drug_users": drug_users, "criminal_judgments": _judgments(rng, counts),
            "school_staff": _school_staff(rng, counts), "lending_judgments": lending, "tax_filings": tax}

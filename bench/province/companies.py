"""Companies at province scale: the business registry, food licences, penalties and criminal cases,
construction permits, wage deposits and complaints (background of M06, M07 and M08).

Lawful by construction, whatever the matching decides:

* **M06** — no legal representative in the registry is ever a convict (the convicts are another role of
  the population, and their names cannot equal a representative's by construction of the name pools):
  a food licence reached by code *or* by name can never be a clue. A small share of licences carries
  no credit code and is reached by its name (the registry's name written exactly), which gives the
  name matching its real work.
* **M07** — each penalty is an unlisted violation, below its threshold, transferred to the police, or
  over the threshold with a criminal case of the same party (equal valid ID or credit code) filed
  within 300 days.
* **M08** — every permit has a deposit that names its permit number; guarantees are current, or
  expired but refunded, or expired after the permit's completion was filed; every complaint is
  settled (已办结) or was filed within the last 29 days.

Example::

    tables = company_tables(np.random.default_rng(7), sizes(0.001))
    tables["business_registry"].num_rows
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from bench.province.arrays import concat, join, nulls_where, serials, years
from bench.province.population import (
    BACKGROUND_AREAS,
    company_names,
    credit_codes,
    person_table,
    trade_names,
)
from bench.province.timeline import AS_OF64, add_years, dates, random_days

FOOD_INDUSTRIES = np.array(["食品", "餐饮管理", "食品贸易", "餐饮服务", "农产品"])
BUILDER_INDUSTRIES = np.array(["建筑工程", "建设工程", "市政工程", "建设集团"])
OTHER_INDUSTRIES = np.array(["科技", "商贸", "建材", "物流", "信息技术", "文化传媒", "机械制造", "电子",
                             "咨询服务", "环保科技", "矿业", "投资管理"])
SCOPES = {"food": "食品销售；餐饮服务", "builder": "房屋建筑工程施工总承包", "other": "一般项目：技术服务、货物进出口"}
ESTATES = np.array(["花园", "小区", "家园", "苑", "公馆", "新城", "广场", "大厦", "中心"])
WORKS = np.array(["建设项目", "新建工程", "改造工程", "安置房项目", "综合楼工程", "配套工程"])
PHASES = np.array(["", "", "一期", "二期", "三期"])
GUARANTEES = np.array(["银行保函", "工程担保公司保函", "工程保证保险"])
PROJECT_TRADES = 20_000_000  # project cores use trade-name indices from here on (companies stay below)
UNCODED_LICENCES = 0.0025  # food licences without a credit code: reached through the registry by name

# M07: violation → (threshold 个人, threshold 单位), as in the model's lookup table; and others.
THRESHOLDS = {"生产、销售伪劣产品": (50000, 50000), "非法经营": (50000, 500000),
              "销售假冒注册商标的商品": (50000, 50000), "非法吸收公众存款": (1000000, 1000000),
              "非法采矿": (100000, 100000)}
UNLISTED = np.array(["逃税", "无照经营", "虚假广告", "违法排污", "违规占道经营"])
AGENCIES = np.array(["自贡市市场监督管理局", "泸州市市场监督管理局", "四川省地方金融监督管理局",
                     "德阳市规划和自然资源局", "凉山州市场监督管理局"])
CASE_CHARGES = np.array(["盗窃罪", "诈骗罪", "故意伤害罪", "非法经营罪", "合同诈骗罪", "职务侵占罪"])


def _registry(rng: np.random.Generator, counts: dict[str, int]) -> tuple[pa.Table, dict[str, np.ndarray]]:
    """Companies 0…n-1: food businesses first, then builders, then the others."""
    n = counts["business_registry"]
    n_food = min(counts["food_licenses"], n // 2)
    n_builders = min(max(counts["construction_permits"] // 4, 10), n // 4)
    index = np.arange(n)
    industry = OTHER_INDUSTRIES[rng.integers(0, len(OTHER_INDUSTRIES), size=n)]
    industry[:n_food] = FOOD_INDUSTRIES[rng.integers(0, len(FOOD_INDUSTRIES), size=n_food)]
    builders = slice(n_food, n_food + n_builders)
    industry[builders] = BUILDER_INDUSTRIES[rng.integers(0, len(BUILDER_INDUSTRIES), size=n_builders)]
    scope = np.full(n, SCOPES["other"])
    scope[:n_food] = SCOPES["food"]
    scope[builders] = SCOPES["builder"]
    reps = person_table(rng, "rep", max(int(n * 0.9), 1), born=(1955, 2000))
    rep = rng.integers(0, reps.num_rows, size=n)  # some people represent several companies
    chosen = reps.take(rep)
    table = pa.table({
        "credit_code": credit_codes(index, BACKGROUND_AREAS[index % len(BACKGROUND_AREAS)]),
        "entity_name": pa.array(company_names(rng, index, industry)),
        "legal_rep_name": chosen["person_name"], "legal_rep_id": chosen["id_number"],
        "status": pa.array(rng.choice(np.array(["存续", "在业", "吊销", "注销"]), size=n, p=[0.6, 0.3, 0.05, 0.05])),
        "registered_on": dates(random_days(rng, n, "1995-01-01", AS_OF64 - 30)),
        "business_scope": pa.array(scope),
    })
    groups = {"food": index[:n_food], "builders": index[builders], "others": index[n_food + n_builders:]}
    return table, groups


def _food_licences(rng: np.random.Generator, registry: pa.Table, food: np.ndarray) -> pa.Table:
    n = len(food)
    holders = registry.take(food)
    uncoded = rng.random(n) < UNCODED_LICENCES
    issued = random_days(rng, n, "2019-07-01", AS_OF64 - 1)
    return pa.table({
        "license_no": serials("JYB", np.arange(n), 11),
        "entity_name": holders["entity_name"],
        "credit_code": nulls_where(uncoded, holders["credit_code"]),
        "legal_rep_name": holders["legal_rep_name"],
        "issued_on": dates(issued), "valid_until": dates(add_years(issued, 5)),
        "status": pa.array(rng.choice(np.array(["有效", "注销", "撤销", "过期"]), size=n, p=[0.85, 0.07, 0.03, 0.05])),
    })


def _penalties(rng: np.random.Generator, counts: dict[str, int], registry: pa.Table, others: np.ndarray
               ) -> tuple[pa.Table, pa.Table]:
    """admin_penalties and criminal_cases: no penalty can be a clue (see the module docstring)."""
    n = counts["admin_penalties"]
    persons = person_table(rng, "party", n + counts["criminal_cases"], born=(1955, 2002))
    organisation = rng.random(n) < 0.35
    company = others[rng.integers(0, len(others), size=n)]
    orgs = registry.take(company)
    people = persons.slice(0, n)
    party_type = np.where(organisation, "单位", "个人")
    name = pc.if_else(pa.array(organisation), orgs["entity_name"], people["person_name"])
    party_id = pc.if_else(pa.array(organisation), orgs["credit_code"], people["id_number"])
    kind = rng.choice(4, size=n, p=[0.45, 0.30, 0.12, 0.13])  # unlisted, below, transferred, filed
    listed = np.array(list(THRESHOLDS))
    violation = np.where(kind == 0, UNLISTED[rng.integers(0, len(UNLISTED), size=n)],
                         listed[rng.integers(0, len(listed), size=n)])
    threshold = _thresholds(violation, organisation)
    amount_yuan = np.where(kind == 1, rng.integers(1000, 10**9, size=n) % np.maximum(threshold - 1, 1) + 1,
                           rng.integers(1, 60, size=n) * np.minimum(threshold, 10**6))
    amount_yuan = np.where(kind == 0, rng.integers(1000, 5_000_000, size=n), amount_yuan)
    decided = random_days(rng, n, "2021-01-01", AS_OF64 - 1)
    filed = kind == 3
    with_id = filed | (rng.random(n) < 0.85)
    agency = pa.array(AGENCIES[rng.integers(0, len(AGENCIES), size=n)])
    penalties = pa.table({
        "decision_no": join(agency, "罚〔", years(decided), "〕B", serials("", np.arange(n), 8), "号"),
        "agency": agency,
        "party_type": pa.array(party_type), "party_name": name,
        "party_id": nulls_where(~with_id, party_id),
        "violation": pa.array(violation), "amount_involved": pa.array(amount_yuan * 100),
        "fine": pa.array(amount_yuan * 50), "decided_on": dates(decided),
        "transferred": pa.array(np.where(kind == 2, "是", "否")),
    })
    # Cases of the filed penalties' parties (same ID or code, within 300 days), then other suspects.
    who = filed.nonzero()[0]
    others_n = max(counts["criminal_cases"] - len(who), 0)
    suspects = persons.slice(n, others_n)
    suspect_has_id = rng.random(others_n) < 0.75
    cases = pa.table({
        "case_no": serials("AJB", np.arange(len(who) + others_n), 9),
        "suspect_name": concat(name.take(who), suspects["person_name"]),
        "suspect_id": concat(party_id.take(who), nulls_where(~suspect_has_id, suspects["id_number"])),
        "charge": pa.array(CASE_CHARGES[rng.integers(0, len(CASE_CHARGES), size=len(who) + others_n)]),
        "filed_on": dates(np.concatenate([
            np.minimum(decided[who] + rng.integers(-300, 301, size=len(who)).astype("timedelta64[D]"), AS_OF64),
            random_days(rng, others_n, "2020-01-01", AS_OF64)])),
    })
    return penalties, cases


def _thresholds(violation: np.ndarray, organisation: np.ndarray) -> np.ndarray:
    out = np.full(len(violation), 10**9, dtype=np.int64)
    for name, (person, company) in THRESHOLDS.items():
        hit = violation == name
        out[hit] = np.where(organisation[hit], company, person)
    return out


def _construction(rng: np.random.Generator, counts: dict[str, int], registry: pa.Table, builders: np.ndarray
                  ) -> tuple[pa.Table, pa.Table, pa.Table]:
    n = counts["construction_permits"]
    contractor = registry.take(builders[rng.integers(0, len(builders), size=n)])
    project = join(trade_names(np.arange(n) + PROJECT_TRADES), ESTATES[rng.integers(0, len(ESTATES), size=n)],
                    PHASES[rng.integers(0, len(PHASES), size=n)], WORKS[rng.integers(0, len(WORKS), size=n)])
    permit_no = serials("SGB", np.arange(n), 10)
    permit_date = AS_OF64 - rng.integers(1, 1800, size=n).astype("timedelta64[D]")
    completed = rng.random(n) < 0.3
    completion = permit_date + rng.integers(200, 1500, size=n).astype("timedelta64[D]")
    completed &= completion <= AS_OF64
    completion = np.where(completed, completion, np.datetime64("NaT"))
    contract_yuan = rng.integers(5_000_000, 300_000_000, size=n)
    permits = pa.table({
        "permit_no": permit_no, "project_name": project, "contractor_name": contractor["entity_name"],
        "contractor_credit_code": contractor["credit_code"], "contract_amount": pa.array(contract_yuan * 100),
        "permit_date": dates(permit_date), "completion_filed_on": dates(completion),
    })
    # One deposit per permit, naming the permit: cash, a current guarantee, or an expired one that was
    # refunded or outlived the works (completion filed on or before the expiry).
    deposited = np.minimum(permit_date + rng.integers(0, 25, size=n).astype("timedelta64[D]"), AS_OF64)
    cash = rng.random(n) < 0.4
    fate = rng.random(n)
    refunded_expired = ~cash & (fate < 0.1)
    outlived = ~cash & (fate >= 0.1) & (fate < 0.2) & completed
    expires = AS_OF64 + rng.integers(30, 700, size=n).astype("timedelta64[D]")
    expires = np.where(refunded_expired, AS_OF64 - rng.integers(30, 300, size=n).astype("timedelta64[D]"), expires)
    expires = np.where(outlived, completion + rng.integers(0, 60, size=n).astype("timedelta64[D]"), expires)
    refunded = np.where(refunded_expired, expires + 20,
                        np.where(completed & (rng.random(n) < 0.5), AS_OF64 - 1, np.datetime64("NaT")))
    drawn = rng.choice(3, size=n, p=[0.5, 0.3, 0.2])
    deposit_fen = contract_yuan * 2  # 2 % of the contract, in fen
    deposits = pa.table({
        "deposit_id": serials("BZJB", np.arange(n), 9), "project_name": project, "permit_no": permit_no,
        "contractor_name": contractor["entity_name"], "contractor_credit_code": contractor["credit_code"],
        "form": pa.array(np.where(cash, "现金存储", GUARANTEES[rng.integers(0, 3, size=n)])),
        "amount": pa.array(deposit_fen), "deposited_on": dates(deposited),
        "guarantee_expires_on": dates(np.where(cash, np.datetime64("NaT"), expires)),
        "drawn_amount": pa.array(np.where(drawn == 1, 0, deposit_fen // 10), mask=drawn == 0),  # empty, 0, drawn
        "refunded_on": dates(refunded),
    })
    m = counts["wage_complaints"]
    about = rng.integers(0, n, size=m)
    settled = rng.random(m) < 0.7
    filed = np.where(settled, AS_OF64 - rng.integers(1, 700, size=m).astype("timedelta64[D]"),
                     AS_OF64 - rng.integers(0, 30, size=m).astype("timedelta64[D]"))
    complaints = pa.table({
        "complaint_id": serials("TSB", np.arange(m), 9), "project_name": project.take(about),
        "employer_name": contractor["entity_name"].take(about), "workers": pa.array(rng.integers(3, 150, size=m)),
        "amount_owed": pa.array(rng.integers(800_000, 200_000_000, size=m)), "filed_on": dates(filed),
        "status": pa.array(np.where(settled, "已办结", "未办结")),
    })
    return permits, deposits, complaints


def company_tables(rng: np.random.Generator, counts: dict[str, int]) -> dict[str, pa.Table]:
    registry, groups = _registry(rng, counts)
    penalties, cases = _penalties(rng, counts, registry, groups["others"])
    permits, deposits, complaints = _construction(rng, counts, registry, groups["builders"])
    return {"business_registry": registry, "food_licenses": _food_licences(rng, registry, groups["food"]),
            "admin_penalties": penalties, "criminal_cases": cases, "construction_permits": permits,
            "wage_deposits": deposits, "wage_complaints": complaints}

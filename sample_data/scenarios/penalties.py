"""M07 penalty_not_transferred: penalties over the prosecution threshold never sent to the police.

A case is one penalty and the criminal cases the police filed, each case flagged with whether it
is the same party in MODELS.md's sense (planted so: the same valid ID; or, when an ID is missing,
an organisation written another way / one character inserted, or an equal person name). The
expected clues follow from the thresholds, ``transferred`` and the 365-day window, in plain Python.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from sample_data.orgs import broken_check
from sample_data.scenarios.common import rand_date

MODEL = "penalty_not_transferred"
THRESHOLDS = {  # violation: (个人, 单位) — the model's lookup table, restated from MODELS.md
    "生产、销售伪劣产品": (50000, 50000),
    "非法经营": (50000, 500000),
    "销售假冒注册商标的商品": (50000, 50000),
    "非法吸收公众存款": (1000000, 1000000),
    "非法采矿": (100000, 100000),
}
UNLISTED = ("逃税", "无照经营", "虚假广告", "违法排污")
AGENCIES = {"生产、销售伪劣产品": "成都市市场监督管理局", "非法经营": "成都市市场监督管理局",
            "销售假冒注册商标的商品": "锦江区市场监督管理局", "非法吸收公众存款": "四川省地方金融监督管理局",
            "非法采矿": "成都市规划和自然资源局", "逃税": "国家税务总局成都市税务局", "无照经营": "青羊区市场监督管理局",
            "虚假广告": "成都市市场监督管理局", "违法排污": "成都市生态环境局"}
CODES = {"成都市市场监督管理局": "成市监", "锦江区市场监督管理局": "锦市监", "四川省地方金融监督管理局": "川金管",
         "成都市规划和自然资源局": "成规自", "国家税务总局成都市税务局": "成税", "青羊区市场监督管理局": "青市监",
         "成都市生态环境局": "成环"}
CHARGES = {"生产、销售伪劣产品": "生产、销售伪劣产品罪", "非法经营": "非法经营罪",
           "销售假冒注册商标的商品": "销售假冒注册商标的商品罪", "非法吸收公众存款": "非法吸收公众存款罪",
           "非法采矿": "非法采矿罪"}


@dataclass
class Filed:
    """A criminal case: its filing date, suspect as written, and whether it is the penalty's party."""

    filed_on: dt.date
    name: str
    suspect_id: str | None
    same_party: bool
    charge: str = "诈骗罪"


@dataclass
class Penalty:
    party_type: str
    name: str
    party_id: str | None
    violation: str
    amount: Decimal
    decided_on: dt.date
    transferred: str = "否"
    cases: list[Filed] = field(default_factory=list)

    def threshold(self) -> Decimal | None:
        pair = THRESHOLDS.get(self.violation)
        return None if pair is None else Decimal(pair[0] if self.party_type == "个人" else pair[1])

    def is_clue(self) -> bool:
        threshold = self.threshold()
        if threshold is None or self.transferred != "否" or self.amount < threshold:
            return False
        return not any(c.same_party and abs((c.filed_on - self.decided_on).days) <= 365 for c in self.cases)


def _penalties(build, as_of: dt.date) -> list[Penalty]:
    rng, pop, orgs = build.rng, build.pop, build.orgs
    out: list[Penalty] = []

    def when() -> dt.date:
        return rand_date(build, dt.date(2021, 1, 1), as_of - dt.timedelta(days=30))

    def party(kind: str):
        if kind == "个人":
            p = pop.person(born=(1960, 1995))
            return p.name, p.id_number
        c = orgs.company(rng.choice(["商贸", "食品", "建材", "矿业", "投资管理", "贸易"]))
        return c.name, c.credit_code

    for violation, (individual, organisation) in THRESHOLDS.items():
        for kind, threshold in (("个人", individual), ("单位", organisation)):
            # At the threshold, above it, one yuan below it, and transferred.
            for amount, transferred in ((threshold, "否"), (threshold + rng.randrange(1, 5) * threshold, "否"),
                                        (threshold - 1, "否"), (threshold * 3, "是")):
                name, pid = party(kind)
                out.append(Penalty(kind, name, pid if rng.random() < 0.7 else None, violation,
                                   Decimal(amount), when(), transferred))
    # 非法经营 by an organisation between the individual and the organisation thresholds: no clue.
    name, pid = party("单位")
    out.append(Penalty("单位", name, pid, "非法经营", Decimal(120000), when()))
    # Violations without a threshold, however large.
    for violation in UNLISTED:
        for kind in ("个人", "单位"):
            name, pid = party(kind)
            out.append(Penalty(kind, name, pid, violation, Decimal(rng.randrange(2, 50)) * 100000, when()))

    def over(kind: str, with_id: bool = True) -> Penalty:
        violation = rng.choice(list(THRESHOLDS))
        threshold = THRESHOLDS[violation][0 if kind == "个人" else 1]
        name, pid = party(kind)
        return Penalty(kind, name, pid if with_id else None, violation,
                       Decimal(threshold) * rng.choice([1, 2, 3, 5]), rng.choice([
                           dt.date(2022, 3, 1), dt.date(2022, 9, 15), dt.date(2023, 3, 1)]))

    for kind in ("个人", "单位"):
        # Filed by the police within 365 days before or after (inclusive) — no clue; 366 days — a clue.
        for days in (-365, -100, 0, 200, 365, 366, -366):
            p = over(kind)
            p.cases.append(Filed(p.decided_on + dt.timedelta(days=days), p.name, p.party_id, True,
                                 CHARGES[p.violation]))
            out.append(p)
        # Same name, another party: valid IDs on both sides that differ decide — a clue.
        p = over(kind)
        _, other_id = party(kind)
        p.cases.append(Filed(p.decided_on + dt.timedelta(days=30), p.name, other_id, False))
        out.append(p)
        # No ID on the penalty: the names decide.
        p = over(kind, with_id=False)
        written = orgs.variant(p.name) if kind == "单位" else p.name
        p.cases.append(Filed(p.decided_on + dt.timedelta(days=60), written, party(kind)[1], True))
        out.append(p)
        # No ID on the case, an invalid ID on the penalty: the names decide.
        p = over(kind)
        p.party_id = (pop.typo_of(p.party_id, "substitute") if kind == "个人" else broken_check(rng, p.party_id))
        p.cases.append(Filed(p.decided_on - dt.timedelta(days=90), p.name, None, True))
        out.append(p)
    # Organisations without IDs: a look-alike (another company) is not the party — a clue; one extra
    # character typed into the name is the fuzzy level (ratio ≥ 90) — the party.
    for _ in range(3):
        p = over("单位", with_id=False)
        company = next(c for c in orgs.issued if c.name == p.name)
        p.cases.append(Filed(p.decided_on + dt.timedelta(days=20), orgs.lookalike(company).name, None, False))
        out.append(p)
        p = over("单位", with_id=False)
        company = next(c for c in orgs.issued if c.name == p.name)
        typed = p.name.replace(company.trade, company.trade + rng.choice("鑫源瑞丰"), 1)
        p.cases.append(Filed(p.decided_on + dt.timedelta(days=20), typed, None, True))
        out.append(p)
    # A person without an ID whose name equals another person's case: suppressed (the cautious direction
    # MODELS.md accepts) — the truth follows the rule, so this is no clue.
    p = over("个人", with_id=False)
    p.cases.append(Filed(p.decided_on + dt.timedelta(days=10), p.name, pop.person().id_number, True))
    out.append(p)
    return out


def _background(build, as_of: dt.date) -> list[Penalty]:
    rng = build.rng
    out = []
    for _ in range(build.scale // 4):
        kind = rng.choice(["个人", "个人", "单位"])
        if kind == "个人":
            p = build.pop.person(born=(1955, 2000))
            name, pid = p.name, p.id_number
        else:
            c = build.orgs.company(rng.choice(["商贸", "餐饮管理", "食品", "建材", "科技"]))
            name, pid = c.name, c.credit_code
        violation = rng.choice([*THRESHOLDS, *UNLISTED])
        threshold = THRESHOLDS.get(violation, (10**9, 10**9))[0 if kind == "个人" else 1]
        amount = Decimal(rng.randrange(1000, min(threshold, 10**6) - 1))
        out.append(Penalty(kind, name, pid if rng.random() < 0.8 else None, violation, amount,
                           rand_date(build, dt.date(2021, 1, 1), as_of), rng.choice(["否", "否", "是"])))
    return out


def plant(build, as_of: dt.date) -> None:
    rng = build.rng
    for n, penalty in enumerate(_penalties(build, as_of) + _background(build, as_of), start=1):
        agency = AGENCIES[penalty.violation]
        decision = f"{CODES[agency]}罚〔{penalty.decided_on.year}〕{n:05d}号"
        fine = (penalty.amount * Decimal("0.5")).quantize(Decimal("0.01"))
        build.add("admin_penalties", decision_no=decision, agency=agency,
                  party_type=penalty.party_type, party_name=penalty.name, party_id=penalty.party_id,
                  violation=penalty.violation, amount_involved=penalty.amount, fine=fine,
                  decided_on=penalty.decided_on, transferred=penalty.transferred)
        for case in penalty.cases:
            build.add("criminal_cases", case_no=build.next_id("AJ"), suspect_name=case.name,
                      suspect_id=case.suspect_id, charge=case.charge, filed_on=case.filed_on)
        if penalty.is_clue():
            build.expect(MODEL, decision, penalty.amount,
                         rank_key=[float(penalty.amount / penalty.threshold())])
    for _ in range(build.scale // 8):  # cases of people and companies never penalised
        p = build.pop.person(born=(1960, 2000))
        build.add("criminal_cases", case_no=build.next_id("AJ"), suspect_name=p.name,
                  suspect_id=p.id_number if rng.random() < 0.8 else None,
                  charge=rng.choice(["盗窃罪", "诈骗罪", "故意伤害罪", "非法经营罪"]),
                  filed_on=rand_date(build, dt.date(2020, 1, 1), as_of))

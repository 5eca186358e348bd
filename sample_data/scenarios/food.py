"""M06 food_ban_license: valid food licences whose operator's legal representative was sentenced
for a food-safety crime.

Each case is a registered company (or none), its food licences as the licence office wrote them,
and its representative's judgments. The expected clues come from :func:`clue_of`, a plain Python
reading of MODELS.md; every case also states whether it is planted to be a clue, and the two must
agree (a generator bug fails loudly instead of producing a wrong truth).

How a licence reaches the registry (MODELS.md): equal credit codes (equal even when the check
character fails), else — no code, or a code the registry does not know — by name as ``org_name``
(equal keys, or the declared fuzzy level: ratio ≥ 90 on long keys), only when exactly one registry
entity matches. The generator knows which company each writing stands for, so it records the link
it intends (``link``) and the oracle trusts it; the name variants come from ``OrgFactory``, whose
writings keep the comparison key (``variant``), break it by one character (``typo``, long names
only) or make another company (``lookalike``).

``criminal_judgments`` is shared with M10: only the two food charges and the out-of-scope
生产、销售伪劣产品罪 / 非法经营罪 are added here.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sample_data.orgs import Company, broken_check
from sample_data.people import Person
from sample_data.scenarios.common import add_judgment, rand_date, sequence_typo

MODEL = "food_ban_license"
FOOD_CHARGES = ("生产、销售不符合安全标准的食品罪", "生产、销售有毒、有害食品罪")
OUT_OF_SCOPE = ("生产、销售伪劣产品罪", "非法经营罪")
BANNING = ("有期徒刑", "无期徒刑", "死刑缓期执行")
LIGHT = ("拘役", "管制", "单处罚金", "免予刑事处罚")
INDUSTRIES = ("食品", "餐饮管理", "食品贸易", "餐饮服务", "农产品")
LONG_INDUSTRIES = ("生鲜农产品配送服务", "餐饮连锁管理服务")  # keys of ten characters and more: room for a typo
SCOPES = ("食品销售", "餐饮服务", "预包装食品销售", "热食类食品制售", "食用农产品零售")


@dataclass
class Judgment:
    charge: str
    sentence: str
    effective_on: dt.date
    probation: str = "否"
    id_number: str | None = None  # None: the judgment does not record it; else the ID it records
    name: str | None = None  # the defendant's name when it is not the person's
    birth: dt.date | None = None  # the birth date recorded when it is not the person's


@dataclass
class Licence:
    number: str
    entity_name: str  # as the licence office wrote it
    credit_code: str | None  # as the licence office wrote it
    link: str  # 'code' | 'name' | 'none': how the licence reaches its company
    status: str = "有效"
    valid_until: dt.date = dt.date(2028, 12, 31)


@dataclass
class Case:
    rep: Person
    company: Company | None  # None: the licence holder is not registered
    licences: list[Licence]
    judgments: list[Judgment]
    clue: bool  # planted to be a clue (for every current licence that reaches the company)
    registry_code: str | None = None  # the registry's code when it is not the company's (a broken check)
    rep_id: str | None = None  # the registry's representative ID when it is not the person's
    twins: list[Company] = field(default_factory=list)  # other registry entities with the same name key


def banned(j: Judgment) -> bool:
    return j.charge in FOOD_CHARGES and j.sentence in BANNING


def same_person(j: Judgment, rep: Person, rep_id: str, rep_id_valid: bool) -> bool:
    if not rep_id_valid:
        return False
    if j.id_number is not None:
        return j.id_number == rep_id
    return (j.name or rep.name) == rep.name and (j.birth or rep.birth) == rep.birth


def clue_of(case: Case, licence: Licence, as_of: dt.date) -> list[Judgment]:
    """The banning judgments behind a clue on this licence (empty: no clue)."""
    if licence.status != "有效" or licence.valid_until < as_of or case.company is None:
        return []
    if licence.link == "none" or (licence.link == "name" and case.twins):
        return []
    rep_id = case.rep_id or case.rep.id_number
    return [j for j in case.judgments
            if banned(j) and same_person(j, case.rep, rep_id, rep_id == case.rep.id_number)]


def _cases(build, as_of: dt.date) -> list[Case]:
    rng, orgs, pop = build.rng, build.orgs, build.pop
    cases: list[Case] = []

    def rep() -> Person:
        return pop.person(born=(1955, 1995))

    def company(long: bool = False, region: bool | None = None) -> Company:
        return orgs.company(rng.choice(LONG_INDUSTRIES if long else INDUSTRIES), region)

    def licence(c: Company, link: str = "code", name: str | None = None, code: str | None = "same",
                **kw) -> Licence:
        return Licence(f"{build.next_id('JY')}{rng.randrange(10_000, 99_999)}", name or orgs.variant(c.name),
                       c.credit_code if code == "same" else code, link, **kw)

    def when() -> dt.date:
        return rand_date(build, dt.date(2012, 1, 1), as_of - dt.timedelta(days=30))

    def food(sentence: str | None = None, **kw) -> Judgment:
        sentence = sentence or rng.choice(("有期徒刑", "有期徒刑", "有期徒刑", "无期徒刑", "死刑缓期执行"))
        probation = kw.pop("probation", rng.choice(("是", "否")) if sentence == "有期徒刑" else "否")
        return Judgment(rng.choice(FOOD_CHARGES), sentence, kw.pop("effective_on", None) or when(), probation, **kw)

    for i in range(3):
        # Clues: the representative identified by ID (sentences of every banning kind, probation included).
        p, c = rep(), company()
        cases.append(Case(p, c, [licence(c)], [food(id_number=p.id_number)], True))
        p, c = rep(), company()
        cases.append(Case(p, c, [licence(c)], [food(("有期徒刑", "无期徒刑", "死刑缓期执行")[i], id_number=p.id_number,
                                                    probation="是" if i == 0 else "否")], True))
        # By name and birth date: the judgment records no ID.
        p, c = rep(), company()
        cases.append(Case(p, c, [licence(c)], [food()], True))
        # Two judgments, two current licences (one clue each) and an expired third.
        p, c = rep(), company()
        cases.append(Case(p, c, [licence(c), licence(c), licence(c, status="过期", valid_until=as_of)],
                          [food(id_number=p.id_number), food()], True))
        # Near misses on the person: same name another birth date; same name and birth date but the judgment
        # records another (valid) ID; a representative ID that fails its check (never joins, not even by name).
        p, c = rep(), company()
        cases.append(Case(p, c, [licence(c)], [food(birth=p.birth + dt.timedelta(days=rng.choice((-400, 1, 31))))],
                          False))
        p, c = rep(), company()
        twin_id = pop.id_for(p.birth, female=p.gender == "女")
        cases.append(Case(p, c, [licence(c)], [food(id_number=twin_id)], False))
        p, c = rep(), company()
        cases.append(Case(p, c, [licence(c)], [food(id_number=p.id_number if i % 2 else None)], False,
                          rep_id=sequence_typo(build, p.id_number)))
        # Near misses on the judgment: out-of-scope charges; food charges with lighter sentences.
        p, c = rep(), company()
        cases.append(Case(p, c, [licence(c)], [Judgment(OUT_OF_SCOPE[i % 2], "有期徒刑", when(), id_number=p.id_number),
                                              Judgment(OUT_OF_SCOPE[(i + 1) % 2], "无期徒刑", when())], False))
        p, c = rep(), company()
        cases.append(Case(p, c, [licence(c)], [food(LIGHT[i], id_number=p.id_number, probation="否"),
                                              food(LIGHT[i + 1], probation="是" if LIGHT[i + 1] == "拘役" else "否")],
                          False))
        # Near misses on the licence: cancelled, revoked, expired, valid until the day before the as-of date;
        # valid until the as-of date itself is current (a clue).
        p, c = rep(), company()
        cases.append(Case(p, c, [licence(c, status=("注销", "撤销", "过期")[i]),
                                 licence(c, valid_until=as_of - dt.timedelta(days=1))],
                          [food(id_number=p.id_number)], False))
        p, c = rep(), company()
        cases.append(Case(p, c, [licence(c, valid_until=as_of)], [food(id_number=p.id_number)], True))
        # Reaching the registry by name: no code on the licence; a code the registry does not know; a one-
        # character typo in a long name (the fuzzy level).
        p, c = rep(), company()
        cases.append(Case(p, c, [licence(c, "name", code=None)], [food(id_number=p.id_number)], True))
        p, c = rep(), company()
        cases.append(Case(p, c, [licence(c, "name", code=orgs.code())], [food()], True))
        p, c = rep(), company(long=True, region=False)
        cases.append(Case(p, c, [licence(c, "name", name=orgs.safe_typo(c.name, c.trade, 1), code=None)],
                          [food(id_number=p.id_number)], True))
        # Equal codes join even when the check character fails (both agencies wrote the same broken code).
        p, c = rep(), company()
        broken = broken_check(rng, c.credit_code)
        cases.append(Case(p, c, [licence(c, code=broken)], [food(id_number=p.id_number)], True, registry_code=broken))
        # Near misses on the link: a name shared by two registry entities (ambiguous); a look-alike company
        # that is not registered; a banned representative whose company holds no licence.
        p, c = rep(), company()
        cases.append(Case(p, c, [licence(c, "name", code=None)], [food(id_number=p.id_number)], False,
                          twins=[Company(orgs.variant(c.name), c.trade, c.industry, c.form, orgs.code())]))
        p, c = rep(), company()
        other = orgs.lookalike(c)
        cases.append(Case(p, c, [licence(c, "none", name=other.name, code=None)], [food(id_number=p.id_number)],
                          False))
        p, c = rep(), company()
        cases.append(Case(p, c, [], [food(id_number=p.id_number)], False))
    return cases


def _background(build, as_of: dt.date) -> list[Case]:
    """Registered food businesses with lawful representatives, and food convicts who run no business."""
    rng = build.rng
    cases = []
    for _ in range(max(build.scale // 4, 20)):
        c = build.orgs.company(rng.choice(INDUSTRIES))
        status = rng.choices(["有效", "注销", "撤销", "过期"], [85, 7, 3, 5])[0]
        number = f"{build.next_id('JY')}{rng.randrange(10_000, 99_999)}"
        valid = rand_date(build, as_of - dt.timedelta(days=700), as_of + dt.timedelta(days=1800))
        cases.append(Case(build.pop.person(born=(1955, 1998)), c,
                          [Licence(number, build.orgs.variant(c.name), c.credit_code, "code", status, valid)], [],
                          False))
    for _ in range(max(build.scale // 20, 5)):
        when = rand_date(build, dt.date(2012, 1, 1), as_of)
        j = Judgment(rng.choice(FOOD_CHARGES + OUT_OF_SCOPE), rng.choice(BANNING + LIGHT), when,
                     id_number=None if rng.random() < 0.3 else "self")
        cases.append(Case(build.pop.person(born=(1955, 1998)), None, [], [j], False))
    return cases


def plant(build, as_of: dt.date) -> None:
    for case in _cases(build, as_of) + _background(build, as_of):
        p = case.rep
        for j in case.judgments:
            if j.id_number == "self":
                j.id_number = p.id_number
        hits = {lic.number: clue_of(case, lic, as_of) for lic in case.licences}
        if any(hits.values()) != case.clue:
            raise AssertionError(f"M06 case {case} gives {hits}, planted as clue={case.clue}")
        rep_id = case.rep_id or p.id_number
        for c, code in ([(case.company, case.registry_code or case.company.credit_code)] if case.company else []) + [
                (t, t.credit_code) for t in case.twins]:
            build.add("business_registry", credit_code=code, entity_name=c.name, legal_rep_name=p.name,
                      legal_rep_id=rep_id, status="存续",
                      registered_on=rand_date(build, dt.date(2000, 1, 1), dt.date(2020, 12, 31)),
                      business_scope=build.rng.choice(SCOPES))
        for lic in case.licences:
            build.add("food_licenses", license_no=lic.number, entity_name=lic.entity_name,
                      credit_code=lic.credit_code, legal_rep_name=p.name,
                      issued_on=lic.valid_until - dt.timedelta(days=5 * 365), valid_until=lic.valid_until,
                      status=lic.status)
        for j in case.judgments:
            add_judgment(build, j.name or p.name, j.id_number, j.birth or p.birth, j.charge, j.effective_on,
                         j.sentence, j.probation)
        for number, judgments in hits.items():
            if judgments:  # rank: the most recent banning judgment first
                build.expect(MODEL, number, rank_key=[max(j.effective_on for j in judgments).toordinal()])

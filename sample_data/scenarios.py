"""Planted cases: the violations each model must find and the near misses it must not.

Each ``plant_*`` function adds rows to the build and, for every case that must
become a clue, the expected subject and amount — computed here from the
case's own parameters with the plain reading of MODELS.md (an independent
oracle: nothing here runs the engine). Background people only appear where
they cannot fire a rule.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sample_data.people import Person, check_char, month_of, months_between

SENTENCES_M02 = ("有期徒刑", "拘役", "无期徒刑", "死刑缓期执行")


def merged(spells: list[tuple[dt.date, dt.date | None]]) -> list[tuple[dt.date, dt.date | None]]:
    """Merge overlapping or touching spells (one starts on or the day after another ends)."""
    out: list[list] = []
    for start, end in sorted(spells, key=lambda s: (s[0], s[1] or dt.date.max)):
        if out and (out[-1][1] is None or start <= out[-1][1] + dt.timedelta(days=1)):
            if out[-1][1] is not None and (end is None or end > out[-1][1]):
                out[-1][1] = end
        else:
            out.append([start, end])
    return [(s, e) for s, e in out]


def strictly_inside(month: dt.date, periods) -> bool:
    return any(month_of(s) < month and (e is None or month < month_of(e)) for s, e in periods)


def _rand_date(build, first: dt.date, last: dt.date) -> dt.date:
    return dt.date.fromordinal(build.rng.randrange(first.toordinal(), last.toordinal() + 1))


def _add_months(d: dt.date, n: int) -> dt.date:
    y, m = divmod(d.month - 1 + n, 12)
    return dt.date(d.year + y, m + 1, 1)


def _money(build, low: int, high: int) -> Decimal:
    return Decimal(build.rng.randrange(low * 2, high * 2)) / 2


# ------------------------------------------------------------------------------ background


def plant_background(build, as_of: dt.date, first: dt.date) -> dict[str, list[Person]]:
    last_month = month_of(as_of)
    all_months = months_between(first, last_month)
    dibao_people, pension_people = [], []
    for i in range(build.scale):
        p = build.pop.person(born=(1945, 1995))
        dibao_people.append(p)
        start = build.rng.randrange(len(all_months))
        stop = build.rng.randrange(start, len(all_months))
        amount = _money(build, 300, 900)
        household = f"H{i // 3:06d}"
        for m in all_months[start:stop + 1]:
            build.add("dibao_payments", payment_id=build.next_id("DB"), household_id=household, person_name=p.name,
                      id_number=p.id_number, county=build.rng.choice(["锦江区", "青羊区", "金牛区", "武侯区", "成华区"]),
                      pay_month=m, amount=amount)
    for _ in range(build.scale):
        p = build.pop.person(born=(1938, 1962))
        pension_people.append(p)
        amount = _money(build, 1200, 5200)
        kind = build.rng.choice(["城镇职工", "城乡居民", "机关事业"])
        for m in all_months:
            build.add("pension_payments", payment_id=build.next_id("YL"), person_name=p.name, id_number=p.id_number,
                      pension_type=kind, pay_month=m, amount=amount)
    for _ in range(max(build.scale // 10, 5)):  # prisoners who receive nothing
        p = build.pop.person(born=(1960, 2000))
        add_spell(build, p, build.rng.choice(["已决", "未决"]), _rand_date(build, first, as_of), None)
    return {"dibao": dibao_people, "pension": pension_people}


def add_spell(build, p: Person, custody: str, start: dt.date, end: dt.date | None,
              sentence: str | None = None, facility: str | None = None) -> None:
    if custody == "已决" and sentence is None:
        sentence = build.rng.choice(["有期徒刑", "有期徒刑", "拘役", "无期徒刑"])
    build.add("prison_roster", person_name=p.name, id_number=p.id_number, gender=p.gender, birth_date=p.birth,
              facility=facility or build.rng.choice(["成都监狱", "川西监狱", "锦江区看守所", "四川省女子监狱"]),
              custody_type=custody, sentence=sentence if custody == "已决" else None, admitted_on=start,
              released_on=end)


def pay(build, dataset: str, p: Person, months: list[dt.date], amount: Decimal, id_number: str | None = None,
        name: str | None = None) -> None:
    for m in months:
        if dataset == "dibao_payments":
            build.add(dataset, payment_id=build.next_id("DB"), household_id=f"HP{p.id_number[-6:]}",
                      person_name=name or p.name, id_number=id_number or p.id_number, county="锦江区", pay_month=m,
                      amount=amount)
        else:
            build.add(dataset, payment_id=build.next_id("YL"), person_name=name or p.name,
                      id_number=id_number or p.id_number, pension_type="城镇职工", pay_month=m, amount=amount)


# ------------------------------------------------------------------------------ M01 / M02 custody


def _spells_for(build, kind: str, first: dt.date, as_of: dt.date) -> list[tuple[str, dt.date, dt.date | None]]:
    start = _rand_date(build, dt.date(first.year, 3, 1), dt.date(as_of.year - 1, 6, 30))
    if kind == "open":
        return [("已决", start, None)]
    if kind == "edges":  # admission and release in consecutive months: no month strictly inside
        release = _add_months(month_of(start), 1) + dt.timedelta(days=build.rng.randrange(0, 27))
        return [("已决", start, release)]
    if kind == "touching":
        first_end = _add_months(month_of(start), 3) - dt.timedelta(days=1)  # the last day of a month
        return [("已决", start, first_end), ("已决", first_end + dt.timedelta(days=1),
                                             _add_months(first_end, 3) + dt.timedelta(days=9))]
    if kind == "gap":
        first_end = _add_months(month_of(start), 2) + dt.timedelta(days=3)
        second = _add_months(month_of(first_end), 3) + dt.timedelta(days=9)
        return [("已决", start, first_end), ("已决", second, _add_months(second, 4))]
    if kind == "pretrial":
        return [("未决", start, _add_months(start, 5) + dt.timedelta(days=2))]
    if kind == "pretrial_then_sentenced":
        end = _add_months(month_of(start), 2) + dt.timedelta(days=12)
        return [("未决", start, end), ("已决", end + dt.timedelta(days=1), _add_months(end, 6))]
    return [("已决", start, _add_months(start, build.rng.randrange(3, 10)) + dt.timedelta(days=build.rng.randrange(28)))]


def plant_prisoner_dibao(build, as_of: dt.date, first: dt.date, per_kind: int = 3) -> None:
    last_month = month_of(as_of)
    kinds = ["inside", "open", "touching", "gap", "edges", "pretrial", "typo_swap", "typo_sub",
             "typo_ambiguous", "typo_other_name"]
    for kind in kinds:
        for _ in range(per_kind):
            p = build.pop.person(born=(1960, 1998))
            base = "inside" if kind.startswith("typo") else kind
            spells = _spells_for(build, base, first, as_of)
            for custody, start, end in spells:
                add_spell(build, p, custody, start, end)
            amount = _money(build, 300, 900)
            window = months_between(_add_months(month_of(spells[0][1]), -3),
                                    min(last_month, _add_months(month_of(spells[-1][2] or last_month), 3)))
            periods = merged([(s, e) for c, s, e in spells if c == "已决"])
            inside = [m for m in window if strictly_inside(m, periods)]
            if kind in ("typo_ambiguous", "typo_other_name"):
                typo = _ambiguous_typo(build, p) if kind == "typo_ambiguous" else build.pop.typo_of(p.id_number,
                                                                                                    "substitute")
                name = p.name if kind == "typo_ambiguous" else build.pop.name()
                pay(build, "dibao_payments", p, [m for m in window if m not in inside], amount)
                pay(build, "dibao_payments", p, inside, amount, id_number=typo, name=name)
                continue  # the only improper payments cannot be linked: no clue
            if kind in ("typo_swap", "typo_sub"):
                typo = build.pop.typo_of(p.id_number, "swap" if kind == "typo_swap" else "substitute")
                typo_months = inside[: max(1, len(inside) // 2)]
                pay(build, "dibao_payments", p, [m for m in window if m not in typo_months], amount)
                pay(build, "dibao_payments", p, typo_months, amount, id_number=typo)
                build.expect("prisoner_dibao", p.id_number, amount * len(inside), confidence=0.8)
                continue
            pay(build, "dibao_payments", p, window, amount)
            if inside:
                build.expect("prisoner_dibao", p.id_number, amount * len(inside), confidence=1.0)


def _ambiguous_typo(build, p: Person) -> str:
    """Register a second roster person with the same name and an ID such that one invalid
    ID is one character away from both; return that ID."""
    for _ in range(1000):
        i = build.rng.randrange(14, 17)
        digit = build.rng.choice([d for d in "0123456789" if d != p.id_number[i]])
        body = p.id_number[:i] + digit + p.id_number[i + 1:17]
        other = body + check_char(body)
        if other[17] == p.id_number[17] or other in build.pop.used_ids:
            continue
        build.pop.used_ids.add(other)
        twin = Person(p.name, other, p.birth, p.gender)
        add_spell(build, twin, "未决", dt.date(2021, 2, 1), dt.date(2021, 4, 1))
        return p.id_number[:17] + other[17]  # one substitution from p (check char), one from twin (position i)
    raise RuntimeError("no ambiguous typo found")


def plant_prisoner_pension(build, as_of: dt.date, first: dt.date, per_kind: int = 3) -> None:
    last_month = month_of(as_of)
    kinds = ["inside", "open", "pretrial", "pretrial_then_sentenced", "touching", "edges", "stopped"]
    for kind in kinds:
        for _ in range(per_kind):
            p = build.pop.person(born=(1940, 1960))
            spells = _spells_for(build, "inside" if kind == "stopped" else kind, first, as_of)
            for custody, start, end in spells:
                add_spell(build, p, custody, start, end,
                          sentence=build.rng.choice(SENTENCES_M02) if custody == "已决" else None)
            amount = _money(build, 1500, 5000)
            window = months_between(first, last_month)
            periods = merged([(s, e) for _, s, e in spells])
            inside = [m for m in window if strictly_inside(m, periods)]
            if kind == "stopped":  # the pension office stopped payment correctly
                pay(build, "pension_payments", p, [m for m in window if m not in inside], amount)
                continue
            pay(build, "pension_payments", p, window, amount)
            if inside:
                build.expect("prisoner_pension", p.id_number, amount * len(inside))
    # Ranking: the same amount in sentenced custody outranks pre-trial custody.
    amount = Decimal("2000.00")
    for custody in ("未决", "已决"):
        p = build.pop.person(born=(1940, 1960))
        start = dt.date(2023, 2, 10)
        add_spell(build, p, custody, start, dt.date(2023, 6, 20), sentence="有期徒刑" if custody == "已决" else None)
        pay(build, "pension_payments", p, months_between(dt.date(2023, 1, 1), dt.date(2023, 8, 1)), amount)
        build.expect("prisoner_pension", p.id_number, amount * 3, tie_group="same_amount",
                     tie_order=2 if custody == "未决" else 1)


# ------------------------------------------------------------------------------ M03 / M04 deaths


def plant_deceased(build, as_of: dt.date, first: dt.date, model: str, dataset: str, per_kind: int = 4) -> None:
    last_month = month_of(as_of)
    kinds = ["after", "after_two_sources", "disagree", "stopped", "invalid_record"]
    for kind in kinds:
        for _ in range(per_kind):
            p = build.pop.person(born=(1935, 1960))
            death = _rand_date(build, dt.date(2022, 6, 1), dt.date(2024, 2, 28))
            sources = build.rng.sample(["户籍注销", "火化记录", "死亡医学证明"], 2)
            amount = _money(build, 400, 4000) if dataset == "pension_payments" else _money(build, 300, 900)
            months = months_between(first, month_of(death))
            extra = build.rng.randrange(1, 6)
            later = [_add_months(month_of(death), k) for k in range(1, extra + 1)]
            later = [m for m in later if m <= last_month]
            if kind == "invalid_record":
                build.add("death_records", record_id=build.next_id("SW"), person_name=p.name,
                          id_number=build.pop.typo_of(p.id_number, "substitute"), death_date=death, source=sources[0])
                pay(build, dataset, p, months + later, amount)
                continue
            build.add("death_records", record_id=build.next_id("SW"), person_name=p.name, id_number=p.id_number,
                      death_date=death, source=sources[0])
            if kind == "after_two_sources":
                build.add("death_records", record_id=build.next_id("SW"), person_name=p.name, id_number=p.id_number,
                          death_date=death + dt.timedelta(days=build.rng.randrange(0, 3)), source=sources[1])
            if kind == "disagree":  # a second source a month later: the earliest date counts
                build.add("death_records", record_id=build.next_id("SW"), person_name=p.name, id_number=p.id_number,
                          death_date=_add_months(month_of(death), 1) + dt.timedelta(days=2), source=sources[1])
            if kind == "stopped":
                pay(build, dataset, p, months, amount)
                continue
            pay(build, dataset, p, months + later, amount)
            if later:
                build.expect(model, p.id_number, amount * len(later),
                             confidence=0.7 if kind == "after" else 1.0)


def plant_all(build, as_of: dt.date, first: dt.date) -> None:
    background = plant_background(build, as_of, first)
    plant_prisoner_dibao(build, as_of, first)
    plant_prisoner_pension(build, as_of, first)
    plant_deceased(build, as_of, first, "deceased_pension", "pension_payments")
    plant_deceased(build, as_of, first, "deceased_dibao", "dibao_payments")
    # Deaths among background pensioners whose payments stopped on time (near misses en masse).
    for p in background["pension"][: max(build.scale // 20, 3)]:
        build.add("death_records", record_id=build.next_id("SW"), person_name=p.name, id_number=p.id_number,
                  death_date=dt.date(as_of.year, as_of.month, 5), source="户籍注销")

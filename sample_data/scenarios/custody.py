"""M01 prisoner_dibao and M02 prisoner_pension: custody spells against monthly payments."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sample_data.people import Person, check_char, month_of, months_between
from sample_data.scenarios.common import add_months, add_spell, merged, money, pay, rand_date, strictly_inside

SENTENCES_M02 = ("有期徒刑", "拘役", "无期徒刑", "死刑缓期执行")


def _spells_for(build, kind: str, first: dt.date, as_of: dt.date) -> list[tuple[str, dt.date, dt.date | None]]:
    start = rand_date(build, dt.date(first.year, 3, 1), dt.date(as_of.year - 1, 6, 30))
    if kind == "open":
        return [("已决", start, None)]
    if kind == "edges":  # admission and release in consecutive months: no month strictly inside
        release = add_months(month_of(start), 1) + dt.timedelta(days=build.rng.randrange(0, 27))
        return [("已决", start, release)]
    if kind == "touching":
        first_end = add_months(month_of(start), 3) - dt.timedelta(days=1)  # the last day of a month
        return [("已决", start, first_end), ("已决", first_end + dt.timedelta(days=1),
                                             add_months(first_end, 3) + dt.timedelta(days=9))]
    if kind == "gap":
        first_end = add_months(month_of(start), 2) + dt.timedelta(days=3)
        second = add_months(month_of(first_end), 3) + dt.timedelta(days=9)
        return [("已决", start, first_end), ("已决", second, add_months(second, 4))]
    if kind == "pretrial":
        return [("未决", start, add_months(start, 5) + dt.timedelta(days=2))]
    if kind == "pretrial_then_sentenced":
        end = add_months(month_of(start), 2) + dt.timedelta(days=12)
        return [("未决", start, end), ("已决", end + dt.timedelta(days=1), add_months(end, 6))]
    return [("已决", start, add_months(start, build.rng.randrange(3, 10)) + dt.timedelta(days=build.rng.randrange(28)))]


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
            amount = money(build, 300, 900)
            window = months_between(add_months(month_of(spells[0][1]), -3),
                                    min(last_month, add_months(month_of(spells[-1][2] or last_month), 3)))
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
            amount = money(build, 1500, 5000)
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

"""Helpers every scenario uses: dates, months, money, merged custody spells, ID typos, rows for shared datasets."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sample_data.people import Person, check_char, month_of


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


def rand_date(build, first: dt.date, last: dt.date) -> dt.date:
    return dt.date.fromordinal(build.rng.randrange(first.toordinal(), last.toordinal() + 1))


def add_months(d: dt.date, n: int) -> dt.date:
    y, m = divmod(d.month - 1 + n, 12)
    return dt.date(d.year + y, m + 1, 1)


def add_years(d: dt.date, n: int) -> dt.date:
    """The same calendar day n years later; 29 February becomes 28 February (MODELS.md)."""
    try:
        return d.replace(year=d.year + n)
    except ValueError:
        return d.replace(year=d.year + n, day=28)


def money(build, low: int, high: int) -> Decimal:
    return Decimal(build.rng.randrange(low * 2, high * 2)) / 2


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


COURTS = ("0104", "0105", "0106", "0107", "0108", "0112", "0113", "0114", "0115", "0116")


def add_judgment(build, name: str, id_number: str | None, birth: dt.date, charge: str, effective_on: dt.date,
                 sentence: str, probation: str) -> None:
    """A ``criminal_judgments`` row (shared by M06 and M10) with a plausible case number."""
    year = effective_on.year - build.rng.randrange(0, 2)
    build.add("criminal_judgments",
              case_no=f"（{year}）川{build.rng.choice(COURTS)}刑初{build.rng.randrange(1, 2000)}号",
              defendant_name=name, id_number=id_number, birth_date=birth, charge=charge, sentence=sentence,
              probation=probation, effective_on=effective_on)


def sequence_typo(build, id_number: str) -> str:
    """The ID with one digit of its sequence (positions 15–17) changed so that the check character fails
    (the birth date inside stays readable)."""
    for _ in range(100):
        i = build.rng.randrange(14, 17)
        typo = id_number[:i] + build.rng.choice([d for d in "0123456789" if d != id_number[i]]) + id_number[i + 1:]
        if check_char(typo[:17]) != typo[17]:
            return typo
    raise RuntimeError("no typo found")

"""M05 drug_user_license: driving licences of drug users — never cancelled, or issued while barred.

Each case is a person with licences and drug records (clean values) and the outcome it is
planted for. The expected clues come from :func:`clues_of`, a plain Python reading of MODELS.md;
every case also states the rules it is meant to fire, and the two must agree (a generator bug
fails loudly instead of producing a wrong truth).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sample_data.people import Person
from sample_data.scenarios.common import add_years, rand_date

MODEL = "drug_user_license"
MEASURES = ("社区戒毒", "社区康复", "强制隔离戒毒")
PROFESSIONAL = ("A1", "A2", "A3", "B1", "B2")
CLASSES = ("C1", "C1", "C1", "C2", "B2", "A2", "A1", "B1", "D", "C1E")


@dataclass
class Licence:
    number: str
    license_class: str
    issued_on: dt.date
    status: str = "正常"
    valid_until: dt.date = dt.date(2030, 1, 1)


@dataclass
class Record:
    found_on: dt.date
    measure: str = "无"
    start: dt.date | None = None
    end: dt.date | None = None


@dataclass
class Case:
    person: Person
    licences: list[Licence]
    records: list[Record]
    fires: set[str] = field(default_factory=set)  # the rules the case is planted to fire
    record_id: str | None = None  # the ID written on the drug records (a typo: never joins)


def _current(licence: Licence, as_of: dt.date) -> bool:
    return licence.status == "正常" and licence.valid_until >= as_of


def not_cancelled(licence: Licence, record: Record, as_of: dt.date) -> bool:
    return (record.measure in MEASURES and record.start is not None
            and licence.issued_on <= record.start <= as_of)


def issued_while_barred(licence: Licence, record: Record) -> bool:
    after_finding = record.found_on < licence.issued_on <= add_years(record.found_on, 3)
    after_isolation = (record.measure == "强制隔离戒毒" and record.end is not None
                       and record.end < licence.issued_on <= add_years(record.end, 3))
    return after_finding or after_isolation


def clues_of(case: Case, as_of: dt.date) -> dict[str, list[tuple[Licence, Record]]]:
    """Rule → the (licence, drug record) pairs behind the clue (MODELS.md M05), for one person."""
    if case.record_id is not None and case.record_id != case.person.id_number:
        return {}
    out: dict[str, list[tuple[Licence, Record]]] = {}
    for licence in (lic for lic in case.licences if _current(lic, as_of)):
        for record in case.records:
            if not_cancelled(licence, record, as_of):
                out.setdefault("not_cancelled", []).append((licence, record))
            if issued_while_barred(licence, record):
                out.setdefault("issued_while_barred", []).append((licence, record))
    return out


def _cases(build, as_of: dt.date) -> list[Case]:
    rng = build.rng
    cases: list[Case] = []

    def person() -> Person:
        return build.pop.person(born=(1965, 2000))

    def lic(issued: dt.date, **kw) -> Licence:
        return Licence(build.next_id("JZ"), kw.pop("license_class", rng.choice(CLASSES)), issued, **kw)

    def some_day(first: dt.date, last: dt.date) -> dt.date:
        return rand_date(build, first, last)

    for _ in range(3):
        # Measures taken after the licence was issued; the licence was never cancelled.
        for measure in MEASURES:
            issued = some_day(dt.date(2008, 1, 1), dt.date(2018, 12, 31))
            found = some_day(dt.date(2019, 6, 1), as_of - dt.timedelta(days=40))
            start = found + dt.timedelta(days=rng.randrange(0, 30))
            end = None if rng.random() < 0.5 else add_years(start, 2)
            cases.append(Case(person(), [lic(issued)], [Record(found, measure, start, end)], {"not_cancelled"}))
        # Boundaries: a measure starting on the day of issue; a licence valid until exactly the as-of date.
        day = some_day(dt.date(2019, 1, 1), dt.date(2023, 1, 1))
        cases.append(Case(person(), [lic(day)], [Record(day, "社区戒毒", day, None)],
                          {"not_cancelled"}))
        cases.append(Case(person(), [lic(dt.date(2012, 3, 1), valid_until=as_of)],
                          [Record(dt.date(2021, 4, 1), "社区康复", dt.date(2021, 4, 8), None)], {"not_cancelled"}))
        # Near misses: cancelled, revoked or expired licences; no measure; a measure after the as-of date;
        # a measure before the licence (and long before: lawful); a drug record under a mistyped ID.
        for status in ("注销", "吊销"):
            cases.append(Case(person(), [lic(dt.date(2010, 5, 5), status=status)],
                              [Record(dt.date(2021, 1, 5), "社区戒毒", dt.date(2021, 1, 9), None)]))
        cases.append(Case(person(), [lic(dt.date(2010, 5, 5), valid_until=as_of - dt.timedelta(days=1))],
                          [Record(dt.date(2021, 1, 5), "强制隔离戒毒", dt.date(2021, 1, 6), dt.date(2023, 1, 5))]))
        cases.append(Case(person(), [lic(dt.date(2010, 5, 5))], [Record(dt.date(2022, 8, 1))]))
        cases.append(Case(person(), [lic(dt.date(2010, 5, 5))],
                          [Record(as_of, "社区戒毒", as_of + dt.timedelta(days=1), None)]))
        cases.append(Case(person(), [lic(dt.date(2016, 5, 5))],
                          [Record(dt.date(2009, 3, 3), "社区戒毒", dt.date(2009, 3, 10), dt.date(2012, 3, 9))]))
        p = person()
        cases.append(Case(p, [lic(dt.date(2010, 5, 5))],
                          [Record(dt.date(2022, 1, 5), "社区戒毒", dt.date(2022, 1, 9), None)],
                          record_id=build.pop.typo_of(p.id_number, "substitute")))

        # Issued within three years of the finding (inclusive), and the boundaries around it.
        found = some_day(dt.date(2019, 1, 1), dt.date(2021, 12, 31))
        cases.append(Case(person(), [lic(found + dt.timedelta(days=rng.randrange(1, 1000)))], [Record(found)],
                          {"issued_while_barred"}))
        cases.append(Case(person(), [lic(add_years(found, 3))], [Record(found)], {"issued_while_barred"}))
        cases.append(Case(person(), [lic(add_years(found, 3) + dt.timedelta(days=1))], [Record(found)]))
        cases.append(Case(person(), [lic(found)], [Record(found)]))  # the very day: out of scope
        # 29 February + 3 years = 28 February.
        cases.append(Case(person(), [lic(dt.date(2023, 2, 28))], [Record(dt.date(2020, 2, 29))],
                          {"issued_while_barred"}))
        cases.append(Case(person(), [lic(dt.date(2023, 3, 1))], [Record(dt.date(2020, 2, 29))]))
        # Released from compulsory isolation less than three years before (the finding itself long ago).
        end = some_day(dt.date(2019, 1, 1), dt.date(2021, 6, 30))
        isolation = Record(end - dt.timedelta(days=1100), "强制隔离戒毒", end - dt.timedelta(days=1095), end)
        cases.append(Case(person(), [lic(end + dt.timedelta(days=rng.randrange(1, 1000)))], [isolation],
                          {"issued_while_barred"}))
        cases.append(Case(person(), [lic(add_years(end, 3))], [isolation], {"issued_while_barred"}))
        cases.append(Case(person(), [lic(add_years(end, 3) + dt.timedelta(days=1))], [isolation]))
        cases.append(Case(person(), [lic(end)], [isolation]))  # the day of release: out of scope
        # Issued during ongoing community treatment, the finding more than three years before: out of scope.
        cases.append(Case(person(), [lic(dt.date(2022, 5, 1))],
                          [Record(dt.date(2018, 4, 1), "社区康复", dt.date(2018, 4, 2), None)]))
        # Both rules: issued soon after a finding, then ordered into treatment.
        found = some_day(dt.date(2019, 1, 1), dt.date(2020, 12, 31))
        issued = found + dt.timedelta(days=200)
        cases.append(Case(person(), [lic(issued)],
                          [Record(found), Record(issued + dt.timedelta(days=300), "社区戒毒",
                                                 issued + dt.timedelta(days=301), None)],
                          {"issued_while_barred", "not_cancelled"}))
        # Two licences (a professional one among them): one clue per person and rule.
        cases.append(Case(person(), [lic(dt.date(2011, 1, 1), license_class="C1"),
                                     lic(dt.date(2014, 1, 1), license_class="A1")],
                          [Record(dt.date(2023, 9, 9), "强制隔离戒毒", dt.date(2023, 9, 10), None)], {"not_cancelled"}))
    return cases


def _background(build, as_of: dt.date) -> list[Case]:
    """Licence holders who never used drugs, drug users without a licence, and lawful licences."""
    rng = build.rng
    cases = []
    for _ in range(build.scale):
        issued = rand_date(build, dt.date(2000, 1, 1), as_of)
        status = rng.choices(["正常", "注销", "吊销", "暂扣", "停止使用"], [90, 4, 2, 2, 2])[0]
        valid = add_years(issued, rng.choice([6, 10, 16]))
        cases.append(Case(build.pop.person(born=(1950, 2004)),
                          [Licence(build.next_id("JZ"), rng.choice(CLASSES), issued, status, valid)], []))
    for _ in range(build.scale // 8):
        found = rand_date(build, dt.date(2012, 1, 1), as_of)
        measure = rng.choice(["无", *MEASURES])
        record = Record(found) if measure == "无" else Record(found, measure, found + dt.timedelta(days=3),
                                                               rng.choice([None, add_years(found, 2)]))
        cases.append(Case(build.pop.person(born=(1970, 2004)), [], [record]))
    for _ in range(build.scale // 20):  # a finding long before the licence, no measure since: lawful
        found = rand_date(build, dt.date(2005, 1, 1), dt.date(2015, 12, 31))
        issued = add_years(found, 3) + dt.timedelta(days=rng.randrange(2, 2000))
        cases.append(Case(build.pop.person(born=(1970, 1995)),
                          [Licence(build.next_id("JZ"), rng.choice(CLASSES), issued)], [Record(found)]))
    return cases


def plant(build, as_of: dt.date) -> None:
    for case in _cases(build, as_of) + _background(build, as_of):
        found = clues_of(case, as_of)
        if set(found) != case.fires:
            raise AssertionError(f"M05 case {case} fires {sorted(found)}, planted for {sorted(case.fires)}")
        p = case.person
        for licence in case.licences:
            build.add("driver_licenses", license_no=licence.number, person_name=p.name, id_number=p.id_number,
                      license_class=licence.license_class, status=licence.status, issued_on=licence.issued_on,
                      valid_until=licence.valid_until)
        for record in case.records:
            build.add("drug_users", person_name=p.name, id_number=case.record_id or p.id_number,
                      found_on=record.found_on, measure=record.measure, measure_start=record.start,
                      measure_end=record.end)
        for rule, pairs in found.items():  # rank: professional classes first, then the most recent record
            professional = int(any(c in lic.license_class for lic, _ in pairs for c in PROFESSIONAL))
            latest = max(r.found_on for _, r in pairs)
            build.expect(MODEL, p.id_number, rule=rule, rank_key=[professional, latest.toordinal()])

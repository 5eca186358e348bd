"""M09 loan_interest_tax: interest collected through court enforcement against the income-tax returns.

The oracle, from MODELS.md: per creditor and year Y of ``received_on`` whose deadline
``date(Y+1, 6, 30)`` is strictly before the as-of date, I = the interest received and D = the
declared 利息、股息、红利所得 of that person and ``tax_year = Y``; a clue ``<id>:<Y>`` when
I − D ≥ 10000, amount 0.2 × (I − D). Rows whose ID number fails its check character never join:
a creditor row with such an ID is ignored (no clue under a wrong ID), and so is a filing.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sample_data.people import Person

MODEL = "loan_interest_tax"
INTEREST = "利息、股息、红利所得"
OTHER_TYPES = ("财产转让所得", "偶然所得", "财产租赁所得")
THRESHOLD = Decimal("10000")
RATE = Decimal("0.2")
COURTS = ("0104", "0105", "0106", "0107", "0108", "0112", "0113", "0114", "0115", "0116")


def cents(build, low: int, high: int) -> Decimal:
    """A random amount in [low, high) yuan, to the fen."""
    return Decimal(build.rng.randrange(low * 100, high * 100)) / 100


def due(year: int, as_of: dt.date) -> bool:
    """The filing deadline, 30 June of the next year, is strictly before the as-of date."""
    return dt.date(year + 1, 6, 30) < as_of


def case_no(build, year: int) -> str:
    return f"（{year}）川{build.rng.choice(COURTS)}执{build.rng.randrange(1, 9000)}号"


def receipts(build, p: Person, year: int, total: Decimal, id_number: str | None = None,
             parts: int | None = None) -> None:
    """Split ``total`` into 1–4 receipts over 1–3 enforcement cases within ``year`` (distinct dates)."""
    parts = parts or build.rng.randrange(1, 5)
    last = dt.date(year, 12, 31)
    days = sorted(build.rng.sample(range((last - dt.date(year, 1, 1)).days + 1), parts))
    cuts = sorted(build.rng.sample(range(1, int(total * 100)), parts - 1)) if parts > 1 else []
    amounts = [Decimal(b - a) / 100 for a, b in zip([0, *cuts], [*cuts, int(total * 100)], strict=True)]
    cases = [case_no(build, year - build.rng.randrange(1, 4)) for _ in range(build.rng.randrange(1, 4))]
    for day, amount in zip(days, amounts, strict=True):
        build.add("lending_judgments", case_no=build.rng.choice(cases), creditor_name=p.name,
                  creditor_id=id_number or p.id_number, interest_received=amount,
                  received_on=dt.date(year, 1, 1) + dt.timedelta(days=day))


def filing(build, p: Person, year: int, amount: Decimal, income_type: str = INTEREST,
           id_number: str | None = None) -> None:
    # Every one of these income types is taxed at 20%; tax_paid is shown, the rule reads income_amount.
    build.add("tax_filings", taxpayer_name=p.name, taxpayer_id=id_number or p.id_number, tax_year=year,
              income_type=income_type, income_amount=amount, tax_paid=(amount * RATE).quantize(Decimal("0.01")))


def expect(build, p: Person, year: int, interest: Decimal, declared: Decimal) -> None:
    gap = interest - declared
    if gap >= THRESHOLD:
        amount = (RATE * gap).quantize(Decimal("0.01"))
        build.expect(MODEL, f"{p.id_number}:{year}", amount, rank_key=[float(amount)])


def plant(build, as_of: dt.date) -> None:
    """Add the rows and expected clues of this model."""
    due_years = [y for y in range(as_of.year - 4, as_of.year) if due(y, as_of)]
    open_years = [y for y in range(as_of.year - 2, as_of.year + 1) if not due(y, as_of)]
    per_kind = 3
    for kind in ("plain", "partial", "exact", "just_under", "covered", "other_year_or_type", "not_due",
                 "two_years", "invalid_creditor", "invalid_filing", "year_boundary", "many_receipts"):
        for _ in range(per_kind):
            p = build.pop.person(born=(1950, 1990))
            year = build.rng.choice(due_years)
            if kind == "plain":  # no filing at all
                interest = cents(build, 10000, 300000)
                receipts(build, p, year, interest)
                expect(build, p, year, interest, Decimal(0))
            elif kind == "partial":  # part of it declared, in one or two filings of the right type and year
                declared = cents(build, 1000, 50000)
                interest = declared + cents(build, 10000, 120000)
                receipts(build, p, year, interest)
                if build.rng.random() < 0.5:  # two filings, unequal (equal rows would be exact duplicates)
                    third = (declared / 3).quantize(Decimal("0.01"))
                    filing(build, p, year, third)
                    filing(build, p, year, declared - third)
                else:
                    filing(build, p, year, declared)
                expect(build, p, year, interest, declared)
            elif kind == "exact":  # I − D exactly 10000: a clue of 2000
                declared = cents(build, 500, 40000)
                interest = declared + THRESHOLD
                receipts(build, p, year, interest)
                filing(build, p, year, declared)
                expect(build, p, year, interest, declared)
            elif kind == "just_under":  # I − D = 9999.99: no clue
                declared = cents(build, 500, 40000)
                interest = declared + THRESHOLD - Decimal("0.01")
                receipts(build, p, year, interest)
                filing(build, p, year, declared)
            elif kind == "covered":  # declared interest (and dividends) cover the interest
                interest = cents(build, 10000, 200000)
                declared = interest + cents(build, 0, 20000)
                receipts(build, p, year, interest)
                filing(build, p, year, declared)
            elif kind == "other_year_or_type":  # filings of another year or another income type do not count
                interest = cents(build, 15000, 150000)
                receipts(build, p, year, interest)
                filing(build, p, year - 1, interest)
                filing(build, p, year + 1, interest)
                filing(build, p, year, interest, income_type=build.rng.choice(OTHER_TYPES))
                expect(build, p, year, interest, Decimal(0))
            elif kind == "not_due":  # the deadline (30 June of the next year) is on or after the as-of date
                for open_year in open_years:
                    receipts(build, p, open_year, cents(build, 20000, 200000))
            elif kind == "two_years":  # the same creditor in two due years: two subjects; an open year: none
                first, second = build.rng.sample(due_years, 2)
                for y in (first, second):
                    interest = cents(build, 10000, 150000)
                    receipts(build, p, y, interest)
                    expect(build, p, y, interest, Decimal(0))
                receipts(build, p, open_years[-1], cents(build, 20000, 90000))
            elif kind == "invalid_creditor":
                # The same creditor's valid rows stay under the threshold; rows under an ID one character off
                # (failing the check) never join, so the year is no clue, and no clue under the typo either.
                receipts(build, p, year, cents(build, 1000, 9000))
                receipts(build, p, year, cents(build, 20000, 100000), id_number=build.pop.typo_of(p.id_number,
                                                                                                   "substitute"))
            elif kind == "invalid_filing":  # a declaration under an invalid ID cannot be credited
                interest = cents(build, 20000, 100000)
                receipts(build, p, year, interest)
                filing(build, p, year, interest, id_number=build.pop.typo_of(p.id_number, "swap"))
                expect(build, p, year, interest, Decimal(0))
            elif kind == "year_boundary":  # 31 December and 1 January fall in different tax years
                y = max(due_years)
                first_part, second_part = cents(build, 5000, 9999), cents(build, 5000, 9999)
                build.add("lending_judgments", case_no=case_no(build, y - 1), creditor_name=p.name,
                          creditor_id=p.id_number, interest_received=first_part, received_on=dt.date(y - 1, 12, 31))
                build.add("lending_judgments", case_no=case_no(build, y - 1), creditor_name=p.name,
                          creditor_id=p.id_number, interest_received=second_part, received_on=dt.date(y, 1, 1))
            elif kind == "many_receipts":  # just over 10000, spread over four receipts in several cases
                interest = cents(build, 10500, 14000)
                declared = cents(build, 1, 400)  # ... and a small declaration
                receipts(build, p, year, interest, parts=4)
                filing(build, p, year, declared)
                expect(build, p, year, interest, declared)
    _background(build, as_of)


def _background(build, as_of: dt.date) -> None:
    """Creditors who can never fire: under 10000 a year, fully declared, or not yet due; other taxpayers."""
    years = list(range(as_of.year - 4, as_of.year + 1))
    for _ in range(max(build.scale // 4, 20)):
        p = build.pop.person(born=(1945, 1995))
        style = build.rng.random()
        for year in build.rng.sample(years, build.rng.randrange(1, 3)):
            if style < 0.6 or (style < 0.8 and due(year, as_of)):
                receipts(build, p, year, cents(build, 100, 9999))  # a small year: never 10000
                if build.rng.random() < 0.3:
                    filing(build, p, year, cents(build, 100, 5000))
            elif style < 0.8:  # a large year not yet due
                receipts(build, p, year, cents(build, 10000, 80000))
            else:  # a large year, fully declared
                interest = cents(build, 10000, 80000)
                receipts(build, p, year, interest)
                filing(build, p, year, interest + cents(build, 0, 3000))
    for _ in range(max(build.scale // 4, 20)):  # taxpayers with no enforced loans at all
        p = build.pop.person(born=(1945, 1995))
        for year in build.rng.sample(years[:-1], build.rng.randrange(1, 3)):
            income_type = build.rng.choice((INTEREST, *OTHER_TYPES))
            filing(build, p, year, cents(build, 500, 200000), income_type=income_type)

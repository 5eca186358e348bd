"""Planted cases: the violations each model must find and the near misses it must not.

One module per model family. Each ``plant*`` function adds rows to the build and,
for every case that must become a clue, the expected subject (and amount) —
computed from the case's own parameters with the plain reading of MODELS.md (an
independent oracle: nothing here runs the engine). Background rows only appear
where they cannot fire a rule, so the planted cases are exactly the clues.
"""

from __future__ import annotations

import datetime as dt

from sample_data.scenarios import background, custody, deaths, drugs, food, lending, penalties, schools, wages


def plant_all(build, as_of: dt.date, first: dt.date) -> None:
    people = background.plant_background(build, as_of, first)
    custody.plant_prisoner_dibao(build, as_of, first)
    custody.plant_prisoner_pension(build, as_of, first)
    deaths.plant_deceased(build, as_of, first, "deceased_pension", "pension_payments")
    deaths.plant_deceased(build, as_of, first, "deceased_dibao", "dibao_payments")
    # Deaths among background pensioners whose payments stopped on time (near misses en masse).
    for p in people["pension"][: max(build.scale // 20, 3)]:
        build.add("death_records", record_id=build.next_id("SW"), person_name=p.name, id_number=p.id_number,
                  death_date=dt.date(as_of.year, as_of.month, 5), source="户籍注销")
    drugs.plant(build, as_of)        # M05 drug_user_license
    food.plant(build, as_of)         # M06 food_ban_license
    penalties.plant(build, as_of)    # M07 penalty_not_transferred
    wages.plant(build, as_of)        # M08 wage_deposit
    lending.plant(build, as_of)      # M09 loan_interest_tax
    schools.plant(build, as_of)      # M10 school_staff_offender

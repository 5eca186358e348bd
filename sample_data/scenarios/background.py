"""Background people: payments and custody that trigger no rule (the bulk of the data)."""

from __future__ import annotations

import datetime as dt

from sample_data.people import Person, month_of, months_between
from sample_data.scenarios.common import add_spell, money, rand_date


def plant_background(build, as_of: dt.date, first: dt.date) -> dict[str, list[Person]]:
    last_month = month_of(as_of)
    all_months = months_between(first, last_month)
    dibao_people, pension_people = [], []
    for i in range(build.scale):
        p = build.pop.person(born=(1945, 1995))
        dibao_people.append(p)
        start = build.rng.randrange(len(all_months))
        stop = build.rng.randrange(start, len(all_months))
        amount = money(build, 300, 900)
        household = f"H{i // 3:06d}"
        for m in all_months[start:stop + 1]:
            build.add("dibao_payments", payment_id=build.next_id("DB"), household_id=household, person_name=p.name,
                      id_number=p.id_number, county=build.rng.choice(["锦江区", "青羊区", "金牛区", "武侯区", "成华区"]),
                      pay_month=m, amount=amount)
    for _ in range(build.scale):
        p = build.pop.person(born=(1938, 1962))
        pension_people.append(p)
        amount = money(build, 1200, 5200)
        kind = build.rng.choice(["城镇职工", "城乡居民", "机关事业"])
        for m in all_months:
            build.add("pension_payments", payment_id=build.next_id("YL"), person_name=p.name, id_number=p.id_number,
                      pension_type=kind, pay_month=m, amount=amount)
    for _ in range(max(build.scale // 10, 5)):  # prisoners who receive nothing
        p = build.pop.person(born=(1960, 2000))
        add_spell(build, p, build.rng.choice(["已决", "未决"]), rand_date(build, first, as_of), None)
    return {"dibao": dibao_people, "pension": pension_people}

"""M03 deceased_pension and M04 deceased_dibao: deaths against monthly payments."""

from __future__ import annotations

import datetime as dt

from sample_data.people import month_of, months_between
from sample_data.scenarios.common import add_months, money, pay, rand_date


def plant_deceased(build, as_of: dt.date, first: dt.date, model: str, dataset: str, per_kind: int = 4) -> None:
    last_month = month_of(as_of)
    kinds = ["after", "after_two_sources", "disagree", "stopped", "invalid_record"]
    for kind in kinds:
        for _ in range(per_kind):
            p = build.pop.person(born=(1935, 1960))
            death = rand_date(build, dt.date(2022, 6, 1), dt.date(2024, 2, 28))
            sources = build.rng.sample(["户籍注销", "火化记录", "死亡医学证明"], 2)
            amount = money(build, 400, 4000) if dataset == "pension_payments" else money(build, 300, 900)
            months = months_between(first, month_of(death))
            extra = build.rng.randrange(1, 6)
            later = [add_months(month_of(death), k) for k in range(1, extra + 1)]
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
                          death_date=add_months(month_of(death), 1) + dt.timedelta(days=2), source=sources[1])
            if kind == "stopped":
                pay(build, dataset, p, months, amount)
                continue
            pay(build, dataset, p, months + later, amount)
            if later:
                build.expect(model, p.id_number, amount * len(later),
                             confidence=0.7 if kind == "after" else 1.0)

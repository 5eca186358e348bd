"""Pensions, dibao, custody and deaths at province scale (M01–M04), with mass-planted clues.

The background is lawful by construction, and the near misses are there en masse:

* pensioners and dibao members paid every month (some dibao members join late or leave early);
* beneficiaries who died, paid up to and including the month of death (one or two death sources);
* beneficiaries with a custody spell, paid only outside the months strictly inside the spell (the
  office stopped on time) — for every custody type, so neither M01 nor M02 can fire;
* prisoners and deceased people who receive nothing.

On top, a small share of beneficiaries is *planted* to be caught — paid on after death (M03, M04) or
through a custody spell (M01: 已决 only; M02: 已决 or 未决) — and the truth for each is computed here
from MODELS.md with whole-array arithmetic: the improper months are the months after the death month,
or the months strictly between the month of admission and the month of release.

Tables are typed (dates and months as date32, amounts as int64 fen); ``render`` makes them text.

Example::

    tables, truth = benefit_tables(np.random.default_rng(7), sizes(0.001))
    tables["pension_payments"].num_rows
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from bench.province.arrays import serials
from bench.province.population import person_table
from bench.province.timeline import AS_OF64, MONTHS, dates, explode, month_dates, month_index, random_days

SOURCES = np.array(["户籍注销", "火化记录", "死亡医学证明"])
SENTENCES = np.array(["有期徒刑", "有期徒刑", "有期徒刑", "拘役", "无期徒刑", "死刑缓期执行"])
FACILITIES = np.array(["川西监狱", "川北监狱", "嘉州监狱", "雷马屏监狱", "金堂县看守所", "凉山州看守所"])
PENSION_TYPES = np.array(["城镇职工", "城乡居民", "机关事业"])
COUNTIES = np.array(["金堂县", "荣县", "米易县", "盐边县", "马尔康市", "康定市", "西昌市", "会理市"])

# Shares of beneficiaries: died (paid up to the death month), held in custody (paid around it), and
# planted to be caught (paid after death / through custody).
PENSION_SHARES = {"died": 0.08, "custody": 0.02, "m03": 0.0025, "m02": 0.001}
DIBAO_SHARES = {"died": 0.03, "custody": 0.027, "m04": 0.001, "m01": 0.001, "partial": 0.10}
TWO_SOURCES = 0.3  # share of deaths recorded by two sources
CHUNK_OWNERS = 100_000  # beneficiaries per slice of a payment ledger (≈ 2.4 M rows)
MODEL_IDS = {"m01": "prisoner_dibao", "m02": "prisoner_pension", "m03": "deceased_pension", "m04": "deceased_dibao"}


@dataclass
class Truth:
    """Planted clues: parallel lists, turned into truth.json entries by the caller."""

    model: list[str]
    subject_id: list[str]
    amount_fen: list[int]
    confidence: list[float | None]  # None: the model defines no confidence to check

    @classmethod
    def empty(cls) -> Truth:
        return cls([], [], [], [])

    def add(self, group: str, ids: pa.Array, fen: np.ndarray, confidence: np.ndarray | None) -> None:
        self.model += [MODEL_IDS[group]] * len(ids)
        self.subject_id += ids.to_pylist()
        self.amount_fen += fen.tolist()
        self.confidence += [None] * len(ids) if confidence is None else confidence.tolist()


def _split(rng: np.random.Generator, n: int, shares: dict[str, float]) -> dict[str, np.ndarray]:
    """Disjoint random groups of 0…n-1 by share; the rest is ``"rest"``."""
    order = rng.permutation(n)
    out, at = {}, 0
    for name, share in shares.items():
        size = int(round(n * share))
        out[name], at = order[at:at + size], at + size
    out["rest"] = order[at:]
    return out


@dataclass
class Spells:
    admitted: np.ndarray  # datetime64[D]
    released: np.ndarray  # datetime64[D], NaT = still in custody
    custody: np.ndarray  # 已决 / 未决
    sentence: np.ndarray  # None for 未决

    @classmethod
    def draw(cls, rng: np.random.Generator, n: int, first: str, last: str, sentenced_share: float,
             min_days: int = 20) -> Spells:
        admitted = random_days(rng, n, first, last)
        released = admitted + rng.integers(min_days, 1200, size=n).astype("timedelta64[D]")
        released = np.where((released > AS_OF64) | (rng.random(n) < 0.15), np.datetime64("NaT"), released)
        custody = np.where(rng.random(n) < sentenced_share, "已决", "未决")
        sentence = np.where(custody == "已决", rng.choice(SENTENCES, size=n), None)
        return cls(admitted, released.astype("datetime64[D]"), custody, sentence)

    def months_inside(self, first: np.ndarray, last: np.ndarray) -> np.ndarray:
        """How many months m in [first, last] lie strictly between month(admitted) and month(released)."""
        lo = np.maximum(month_index(self.admitted) + 1, first)
        hi = np.where(np.isnat(self.released), last, np.minimum(month_index(self.released) - 1, last))
        return np.maximum(hi - lo + 1, 0)

    def table(self, people: pa.Table, owners: np.ndarray, rng: np.random.Generator) -> pa.Table:
        chosen = people.take(owners)
        return pa.table({
            "person_name": chosen["person_name"], "id_number": chosen["id_number"], "gender": chosen["gender"],
            "birth_date": chosen["birth_date"], "facility": pa.array(rng.choice(FACILITIES, size=len(owners))),
            "custody_type": pa.array(self.custody), "sentence": pa.array(self.sentence, pa.string()),
            "admitted_on": dates(self.admitted), "released_on": dates(self.released),
        })


def _paid_around(spells: Spells, first: np.ndarray, last: np.ndarray) -> tuple[np.ndarray, ...]:
    """Two payment intervals per person that skip the months strictly inside the spell."""
    admitted = month_index(spells.admitted)
    released = np.where(np.isnat(spells.released), MONTHS + 1, month_index(spells.released))
    before_last = np.minimum(admitted, last)
    after_first = np.maximum.reduce([released, admitted + 1, first])
    return before_last, after_first


def _deaths(rng: np.random.Generator, people: pa.Table, owners: np.ndarray, died: np.ndarray,
            two_sources: np.ndarray, prefix: str) -> pa.Table:
    """One death record per owner, a second (0–3 days later, another source) where ``two_sources``."""
    first_source = rng.integers(0, 3, size=len(owners))
    second = two_sources.nonzero()[0]
    who = np.concatenate([owners, owners[second]])
    when = np.concatenate([died, died[second] + rng.integers(0, 4, size=len(second)).astype("timedelta64[D]")])
    source = np.concatenate([first_source, (first_source[second] + rng.integers(1, 3, size=len(second))) % 3])
    chosen = people.take(who)
    return pa.table({
        "record_id": serials(prefix, np.arange(len(who)), 9),
        "person_name": chosen["person_name"], "id_number": chosen["id_number"], "death_date": dates(when),
        "source": pa.array(SOURCES[source]),
    })


class _Payments:
    """Collects (owner, first month, last month) intervals of one benefit, then explodes them to rows,
    a slice of the owners at a time (so scale 3 fits in memory), each slice sorted by month."""

    def __init__(self) -> None:
        self.owner: list[np.ndarray] = []
        self.first: list[np.ndarray] = []
        self.last: list[np.ndarray] = []

    def add(self, owner: np.ndarray, first: np.ndarray, last: np.ndarray) -> None:
        self.owner.append(owner)
        self.first.append(np.broadcast_to(first, owner.shape))
        self.last.append(np.broadcast_to(last, owner.shape))

    def chunks(self, rng: np.random.Generator, owners_per_chunk: int = CHUNK_OWNERS
               ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        owner, first, last = (np.concatenate(x) for x in (self.owner, self.first, self.last))
        for at in range(0, len(owner), owners_per_chunk):
            part = slice(at, at + owners_per_chunk)
            rows_owner, month = explode(owner[part], first[part], last[part])
            shuffled = rng.permutation(len(rows_owner))  # agencies' exports are not sorted by person
            order = shuffled[np.argsort(month[shuffled], kind="stable")]
            yield rows_owner[order], month[order]


def _benefit(rng: np.random.Generator, people: pa.Table, groups: dict[str, np.ndarray], first: np.ndarray,
             last: np.ndarray, fen: np.ndarray, death_model: str, custody_model: str, sentenced_only: bool,
             truth: Truth, record_prefix: str) -> tuple[_Payments, list[pa.Table], list[pa.Table]]:
    """Payment intervals, custody spells and death records of one benefit's beneficiaries
    (death record numbers ``<record_prefix>A…`` for lawful deaths, ``…B…`` for planted ones)."""
    pay = _Payments()
    pay.add(groups["rest"], first[groups["rest"]], last[groups["rest"]])
    deaths, spells_out = [], []
    # Died, paid up to and including the death month.
    died_who = groups["died"]
    died = random_days(rng, len(died_who), "2022-07-01", AS_OF64 - 5)
    pay.add(died_who, first[died_who], np.minimum(month_index(died), last[died_who]))
    deaths.append(_deaths(rng, people, died_who, died, rng.random(len(died_who)) < TWO_SOURCES,
                          record_prefix + "A"))
    # Planted: paid one to five months after the death month.
    planted = groups[death_model]
    died = random_days(rng, len(planted), "2022-07-01", "2024-05-31")
    death_month = month_index(died)
    paid_to = np.minimum(death_month + rng.integers(1, 6, size=len(planted)), MONTHS - 1)
    pay.add(planted, first[planted], paid_to)
    two = rng.random(len(planted)) < 0.4
    deaths.append(_deaths(rng, people, planted, died, two, record_prefix + "B"))
    truth.add(death_model, people["id_number"].take(planted), fen[planted] * (paid_to - death_month),
              np.where(two, 1.0, 0.7))
    # Held in custody, paid only around the spell.
    held = groups["custody"]
    spells = Spells.draw(rng, len(held), "2020-01-01", "2024-06-01", 0.7)
    before_last, after_first = _paid_around(spells, first[held], last[held])
    pay.add(held, first[held], before_last)
    pay.add(held, after_first, last[held])
    spells_out.append(spells.table(people, held, rng))
    # Planted: paid straight through a spell (M01 counts only 已决 spells, M02 both kinds).
    planted = groups[custody_model]
    spells = Spells.draw(rng, len(planted), "2022-07-01", "2024-03-31", 1.0 if sentenced_only else 0.6,
                         min_days=65)
    pay.add(planted, first[planted], last[planted])
    inside = spells.months_inside(first[planted], last[planted])
    caught = inside > 0
    truth.add(custody_model, people["id_number"].take(planted[caught]), (fen[planted] * inside)[caught],
              np.ones(caught.sum()) if sentenced_only else None)  # M01 states a confidence, M02 none
    spells_out.append(spells.table(people, planted, rng))
    return pay, spells_out, deaths


def _ledger_rows(rng: np.random.Generator, pay: _Payments, people: pa.Table, fen: np.ndarray, prefix: str,
                 own_columns: Callable[[np.ndarray], dict]) -> Iterator[pa.Table]:
    """A payment ledger, slice by slice: payment number, the person, month, amount and the ledger's own columns."""
    written = 0
    for owner, month in pay.chunks(rng):
        chosen = people.take(owner)
        yield pa.table({
            "payment_id": serials(prefix, written + np.arange(len(owner)), 10), "person_name": chosen["person_name"],
            "id_number": chosen["id_number"], "pay_month": dates(month_dates(month)), "amount": pa.array(fen[owner]),
            **own_columns(owner),
        })
        written += len(owner)


def benefit_tables(rng: np.random.Generator, counts: dict[str, int]
                   ) -> tuple[dict[str, pa.Table | Iterator[pa.Table]], Truth]:
    """pension_payments and dibao_payments (as streams of slices, each sorted by month), prison_roster and
    death_records, and the planted truth. The ledgers' slices draw from their own random streams."""
    truth = Truth.empty()
    pension_rng, dibao_rng = rng.spawn(2)
    # Pensions: everyone paid all 24 months unless they die or are held.
    n = counts["pensioners"]
    pensioners = person_table(rng, "pension", n, born=(1938, 1962))
    groups = _split(rng, n, PENSION_SHARES)
    pension_fen = rng.integers(120_000, 520_000, size=n)
    pension_pay, roster_parts, death_parts = _benefit(rng, pensioners, groups, np.zeros(n, np.int64),
                                                      np.full(n, MONTHS - 1), pension_fen, "m03", "m02", False,
                                                      truth, "SWP")
    # Dibao: households of one to four; some members join late or leave early.
    n = counts["dibao_members"]
    members = person_table(rng, "dibao", n, born=(1945, 2012))
    groups = _split(rng, n, DIBAO_SHARES)
    first = np.zeros(n, np.int64)
    last = np.full(n, MONTHS - 1)
    partial = groups.pop("partial")
    first[partial] = rng.integers(0, MONTHS, size=len(partial))
    last[partial] = rng.integers(first[partial], MONTHS)
    groups["rest"] = np.concatenate([groups["rest"], partial])
    dibao_fen = rng.integers(30_000, 90_000, size=n)
    dibao_pay, dibao_roster, dibao_deaths = _benefit(rng, members, groups, first, last, dibao_fen, "m04", "m01",
                                                     True, truth, "SWD")
    roster_parts += dibao_roster
    death_parts += dibao_deaths
    # Prisoners who receive nothing (some with an earlier, separate spell) and deaths of non-beneficiaries.
    spells_so_far = sum(t.num_rows for t in roster_parts)
    prisoners_n = max(round((counts["custody_spells"] - spells_so_far) / 1.15), 10)
    prisoners = person_table(rng, "prisoner", prisoners_n, born=(1960, 2004))
    people = np.arange(prisoners_n)
    spells = Spells.draw(rng, prisoners_n, "2016-01-01", "2024-06-25", 0.75)
    roster_parts.append(spells.table(prisoners, people, rng))
    again = people[rng.random(prisoners_n) < 0.15]
    released = spells.admitted[again] - rng.integers(30, 2000, size=len(again)).astype("timedelta64[D]")
    admitted = released - rng.integers(20, 1200, size=len(again)).astype("timedelta64[D]")
    earlier = Spells(admitted, released, spells.custody[again], spells.sentence[again])
    roster_parts.append(earlier.table(prisoners, again, rng))
    records_so_far = sum(t.num_rows for t in death_parts)
    deceased_n = max(counts["death_records"] - records_so_far, 10)
    deceased = person_table(rng, "deceased", deceased_n, born=(1925, 1990))
    died = random_days(rng, deceased_n, "2015-01-01", AS_OF64 - 1)
    death_parts.append(_deaths(rng, deceased, np.arange(deceased_n), died, np.zeros(deceased_n, bool), "SWX"))
    kind = PENSION_TYPES[rng.integers(0, 3, size=counts["pensioners"])]
    household = np.cumsum(rng.random(n) < 0.4)  # a new dibao household starts with probability 0.4
    tables = {
        "pension_payments": _ledger_rows(pension_rng, pension_pay, pensioners, pension_fen, "YLB",
                                         lambda owner: {"pension_type": pa.array(kind[owner])}),
        "dibao_payments": _ledger_rows(dibao_rng, dibao_pay, members, dibao_fen, "DBB", lambda owner: {
            "household_id": serials("HB", household[owner], 8),
            "county": pa.array(COUNTIES[household[owner] % len(COUNTIES)])}),
              "prison_roster": pa.concat_tables(roster_parts), "death_records": pa.concat_tables(death_parts)}
    return tables, truth

"""A seeded population of fake people with valid, unique ID numbers.

Every person has a normalised name, an 18-character ID number (valid check
character), a birth date and a gender. Scenarios draw people from here so no
two planted cases share an identity by accident.

Example::

    pop = Population(random.Random(7))
    p = pop.person(born=(1950, 1960))
    p.id_number, p.name
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from faker.providers.person.zh_CN import Provider as _ZhPerson

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"
AREAS = ("510104", "510105", "510106", "510107", "510108", "510112", "510113", "510114", "510115", "510116")
SURNAMES = list(_ZhPerson.last_names.keys())
SURNAME_WEIGHTS = list(_ZhPerson.last_names.values())
GIVEN = sorted({c for c in _ZhPerson.first_names if len(c) == 1} | set("娜敏静丽艳芳秀英华玉兰萍红霞平刚桂梅"))


def check_char(body17: str) -> str:
    return ID_CHECK[sum(int(c) * w for c, w in zip(body17, ID_WEIGHTS, strict=True)) % 11]


@dataclass(frozen=True)
class Person:
    name: str
    id_number: str
    birth: dt.date
    gender: str  # 男 / 女

    @property
    def id15(self) -> str | None:
        """The old 15-digit form (people born in the 1900s whose sequence is not 996–999)."""
        if self.id_number[6:8] != "19" or self.id_number[14:17] in ("996", "997", "998", "999"):
            return None
        return self.id_number[:6] + self.id_number[8:17]


class Population:
    def __init__(self, rng: random.Random):
        self.rng = rng
        self.used_ids: set[str] = set()
        self.used_names: set[str] = set()

    def name(self, unique: bool = True) -> str:
        for _ in range(1000):
            surname = self.rng.choices(SURNAMES, SURNAME_WEIGHTS)[0]
            given = "".join(self.rng.choice(GIVEN) for _ in range(self.rng.choice((1, 2, 2))))
            name = surname + given
            if not unique or name not in self.used_names:
                self.used_names.add(name)
                return name
        raise RuntimeError("name space exhausted")

    def id_for(self, birth: dt.date, female: bool, area: str | None = None) -> str:
        for _ in range(1000):
            seq = self.rng.randrange(0, 499) * 2 + (0 if female else 1)
            body = f"{area or self.rng.choice(AREAS)}{birth:%Y%m%d}{seq:03d}"
            number = body + check_char(body)
            if number not in self.used_ids:
                self.used_ids.add(number)
                return number
        raise RuntimeError("ID space exhausted")

    def person(self, born: tuple[int, int] = (1940, 2000), name: str | None = None,
               birth: dt.date | None = None) -> Person:
        if birth is None:
            start = dt.date(born[0], 1, 1).toordinal()
            birth = dt.date.fromordinal(self.rng.randrange(start, dt.date(born[1], 12, 28).toordinal()))
        female = self.rng.random() < 0.5
        return Person(name or self.name(), self.id_for(birth, female), birth, "女" if female else "男")

    def typo_of(self, id_number: str, kind: str) -> str:
        """An ID one character off ('substitute') or with two neighbours swapped ('swap') that fails its check."""
        for _ in range(1000):
            chars = list(id_number)
            if kind == "swap":
                i = self.rng.randrange(6, 16)
                if chars[i] == chars[i + 1]:
                    continue
                chars[i], chars[i + 1] = chars[i + 1], chars[i]
            else:
                i = self.rng.randrange(6, 17)
                chars[i] = self.rng.choice([d for d in "0123456789" if d != chars[i]])
            typo = "".join(chars)
            if check_char(typo[:17]) != typo[17]:
                return typo
        raise RuntimeError("no typo found")


def months_between(first: dt.date, last: dt.date) -> list[dt.date]:
    """Month starts from first's month to last's month, inclusive."""
    out, y, m = [], first.year, first.month
    while (y, m) <= (last.year, last.month):
        out.append(dt.date(y, m, 1))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def month_of(d: dt.date) -> dt.date:
    return d.replace(day=1)

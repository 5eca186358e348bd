"""Vectorised fake identities for sample data and benchmarks (numpy, seeded).

Names come from Faker's zh_CN pools (surnames with their real frequencies,
given-name characters); ID numbers are built with their GB 11643 check
character; credit codes with their GB 32100 check character. Everything is a
whole-array operation, so ten million rows take seconds.

Example::

    rng = np.random.default_rng(7)
    names = person_names(rng, 5)
    ids = id_numbers(rng, np.array(["510104"] * 5), birth_days(rng, 5, 1950, 2000))
"""

from __future__ import annotations

import datetime as dt

import numpy as np
from faker.providers.person.zh_CN import Provider as _ZhPerson

ID_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2])
ID_CHECK = np.array(list("10X98765432"))
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = np.array([1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28])
EPOCH = dt.date(1970, 1, 1)

_SURNAMES = np.array(list(_ZhPerson.last_names.keys()))
_SURNAME_P = np.array(list(_ZhPerson.last_names.values()), dtype=float)
_SURNAME_P /= _SURNAME_P.sum()
_GIVEN = np.array(sorted({c for c in _ZhPerson.first_names if len(c) == 1} | set("娜敏静丽艳芳秀英华玉兰萍红霞平刚桂梅")))

# Area codes of real districts (Chengdu, Chongqing, Beijing, Shanghai, Guangzhou).
AREA_CODES = np.array(["510104", "510105", "510106", "510107", "510108", "510112", "510113", "500103",
                       "500104", "110101", "110105", "310101", "310104", "440103", "440104"])


def person_names(rng: np.random.Generator, n: int) -> np.ndarray:
    surnames = rng.choice(_SURNAMES, size=n, p=_SURNAME_P)
    first = rng.choice(_GIVEN, size=n)
    second = np.where(rng.random(n) < 0.6, rng.choice(_GIVEN, size=n), "")
    return np.char.add(np.char.add(surnames, first), second)


def birth_days(rng: np.random.Generator, n: int, first_year: int, last_year: int) -> np.ndarray:
    """Random dates as numpy datetime64[D]."""
    lo = np.datetime64(f"{first_year}-01-01")
    hi = np.datetime64(f"{last_year}-12-31")
    return lo + rng.integers(0, (hi - lo).astype(int) + 1, size=n).astype("timedelta64[D]")


def id_check_chars(bodies: np.ndarray) -> np.ndarray:
    """Check characters of 17-digit bodies (array of str)."""
    digits = np.frombuffer(np.char.encode(bodies.astype("U17"), "ascii").astype("S17").tobytes(),
                           dtype=np.uint8).reshape(-1, 17) - ord("0")
    return ID_CHECK[(digits.astype(np.int64) @ ID_WEIGHTS) % 11]


def id_numbers(rng: np.random.Generator, areas: np.ndarray, births: np.ndarray, female: np.ndarray | None = None
               ) -> np.ndarray:
    """Valid 18-character ID numbers; an odd sequence number is a man, an even one a woman."""
    n = len(areas)
    female = rng.random(n) < 0.5 if female is None else female
    seq = rng.integers(0, 499, size=n) * 2 + np.where(female, 0, 1)
    ymd = np.char.replace(np.datetime_as_string(births, unit="D"), "-", "")
    bodies = np.char.add(np.char.add(areas.astype("U6"), ymd), np.char.zfill(seq.astype("U3"), 3))
    return np.char.add(bodies, id_check_chars(bodies))


def credit_codes(rng: np.random.Generator, n: int, areas: np.ndarray | None = None) -> np.ndarray:
    """Valid unified social credit codes (``91`` + area + 9-character org code + check)."""
    areas = (areas if areas is not None else rng.choice(AREA_CODES, size=n)).astype("U6")
    area_digits = np.frombuffer(np.char.encode(areas, "ascii").astype("S6").tobytes(),
                                dtype=np.uint8).reshape(-1, 6).astype(np.int64) - ord("0")
    org = rng.integers(0, 31, size=(n, 9))
    org[:, 8] = rng.integers(0, 10, size=n)
    values = np.hstack([np.tile([9, 1], (n, 1)), area_digits, org])
    check = (31 - (values @ USCC_WEIGHTS) % 31) % 31
    alphabet = np.array(list(USCC_ALPHABET))
    chars = alphabet[np.hstack([values, check[:, None]])]
    out = chars[:, 0]
    for position in range(1, 18):  # 18 column-wise string joins, not a loop over rows
        out = np.char.add(out, chars[:, position])
    return out

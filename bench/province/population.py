"""The background population at province scale: identities that can never meet a planted case.

Everything is a whole-array operation (numpy, Arrow), so millions of people take seconds.
Three spaces are kept apart from those of the seeded sample generator (``sample_data``), so a
background row can never join, by ID or by name, a row the generator planted:

* **ID numbers** are built from Sichuan area codes the sample generator never uses
  (``BACKGROUND_AREAS``) with a valid GB 11643 check character. Within the background, each *role*
  (pensioners, dibao members, drivers, …) owns its own band of sequence numbers, and a person's index
  maps one-to-one onto (area, birth day, sequence): two people never share an ID number unless the
  generator gives them the same person on purpose.
* **Names** end in a given-name character outside the sample generator's pool (``GIVEN``), so no
  background name equals a planted one (the sample's names always end in a ``GIVEN`` character).
* **Organisation and project names** use trade characters outside the sample's ``TRADE_CHARS`` and
  never begin with a division name (the comparison key would strip it): four characters from an
  index, so they are unique; credit codes are built from an index and a background area code.

Example::

    people = person_table(np.random.default_rng(7), "pension", 1000, born=(1938, 1962))
    people.column("id_number")[0]          # e.g. '510122194507130051'
"""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from faker.providers.person.zh_CN import Provider as _ZhPerson

from bench.province.arrays import ascii_strings, digit_codes
from sample_data.orgs import TRADE_CHARS
from sample_data.people import GIVEN

# Sichuan counties outside sample_data.people.AREAS (central Chengdu) whose codes were never reassigned,
# so the number is valid for any birth year (python-stdnum checks the county against the birth year).
BACKGROUND_AREAS = np.array([
    510121, 510321, 510421, 510422, 513221, 513222, 513224, 513226, 513227, 513228, 513230, 513231, 513232,
    513233, 513322, 513323, 513324, 513325, 513326, 513327, 513328, 513329, 513330, 513331, 513332, 513333,
    513334, 513335, 513336, 513337, 513338, 513401, 513422, 513423, 513424, 513426, 513427, 513428, 513429,
    513430, 513431, 513432, 513433, 513434, 513435, 513436, 513437], dtype=np.int64)

# Each role owns a band of 80 sequence numbers (3-digit sequence 000–959; 996–999 stay unused).
ROLES = ("pension", "dibao", "prisoner", "deceased", "driver", "drug", "rep", "convict", "party", "staff",
         "creditor", "taxpayer")
SEQ_BAND = 80

ID_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
ID_CHECK = np.frombuffer(b"10X98765432", dtype=np.uint8)
USCC_ALPHABET = np.frombuffer(b"0123456789ABCDEFGHJKLMNPQRTUWXY", dtype=np.uint8)
USCC_WEIGHTS = np.array([1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28], dtype=np.int64)

# Given-name characters the sample generator never uses (all simplified: normalisation keeps them).
BACKGROUND_GIVEN = np.array(list(
    "子轩梓涵一诺依雨桐可馨思远嘉懿若汐沐宸景行昊然奕辰煜祺睿哲彦君泽楷钧铭熙晗昕玥琦璇瑾琪妍婉蕾蓓蔓菲芸"
    "茜莎淑娴婕媛姝妙娅舒朗逸骁炎铮钊锐锋毅坚竣骏弘宏鸿翰瀚浚澄清源渊淳润湛沛洛漪澜滢溪霖露霏雯霓岚嵘峥崧"
    "岱嵩松柏桦樟枫榕栩樾梧权森"))
# Trade-name characters outside sample_data.orgs.TRADE_CHARS; the first one never begins a division name.
TRADE_FIRST = np.array(list("澈渺旷野穹黛橙靛翡琥珀瑙珊瑚菊橘柚枫杉檀乔粟豆直勤俭谐善真知力物初心业程奋尔不群"))
TRADE_REST = np.array(list("澄澈朗渺旷野苍穹青黛赤橙黄绿蓝靛翡琥珀玛瑙珊瑚松柏竹菊荷莲桃李杏梨橘柚枫桦榆槐杉"
                           "樟檀乔木稻麦粟豆谷登裕昌恒久方正直勤俭信望爱和谐美善真知行合力天工开物本初心宏图大"
                           "业新程启扬奋进尔不群"))
REGION_PREFIXES = np.array(["", "", "", "四川省", "四川", "成都市", "自贡市", "攀枝花市", "泸州市", "德阳市"])

_SURNAMES = np.array(list(_ZhPerson.last_names.keys()))
_SURNAME_P = np.array(list(_ZhPerson.last_names.values()), dtype=float)
_SURNAME_P /= _SURNAME_P.sum()
_SURNAME_ARRAY = pa.array(_SURNAMES)
_GIVEN_ARRAY = pa.array([*BACKGROUND_GIVEN, ""])  # the last entry: no second given-name character

if set(BACKGROUND_GIVEN) & set(GIVEN) or set(TRADE_REST) & set(TRADE_CHARS) or not set(TRADE_FIRST) <= set(
        TRADE_REST):
    raise AssertionError("background name pools must stay disjoint from the sample generator's")


def id_numbers(area: np.ndarray, birth: np.ndarray, seq: np.ndarray) -> pa.Array:
    """Valid 18-character resident ID numbers from area codes, birth dates (datetime64[D]) and sequences."""
    years = birth.astype("datetime64[Y]").astype(np.int64) + 1970
    months = birth.astype("datetime64[M]").astype(np.int64) % 12 + 1
    days = (birth - birth.astype("datetime64[M]")).astype(np.int64) + 1
    body = digit_codes(area * 10**11 + (years * 10000 + months * 100 + days) * 1000 + seq, 17)
    out = np.empty((len(body), 18), dtype=np.uint8)
    out[:, :17] = body
    weighted = (body.astype(np.float64) - ord("0")) @ ID_WEIGHTS.astype(np.float64)  # exact: small integers
    out[:, 17] = ID_CHECK[weighted.astype(np.int64) % 11]
    return ascii_strings(out)


def credit_codes(index: np.ndarray, area: np.ndarray) -> pa.Array:
    """Valid, distinct unified social credit codes: ``91`` + area + an organisation code from the index."""
    n = len(index)
    org = np.empty((n, 9), dtype=np.int64)
    org[:, 8] = index % 10
    rest = index // 10
    for position in range(7, -1, -1):  # the other 8 characters: the index in base 31
        org[:, position] = rest % 31
        rest //= 31
    if rest.any():
        raise ValueError("credit-code index out of range")
    values = np.hstack([np.tile([9, 1], (n, 1)), digit_codes(area, 6).astype(np.int64) - ord("0"), org])
    check = (31 - (values @ USCC_WEIGHTS) % 31) % 31
    return ascii_strings(USCC_ALPHABET[np.hstack([values, check[:, None]])])


def person_names(rng: np.random.Generator, n: int) -> pa.Array:
    """Surname (real frequencies) + one or two given-name characters from the background pool."""
    surnames = _SURNAME_ARRAY.take(rng.choice(len(_SURNAME_P), size=n, p=_SURNAME_P))
    first = _GIVEN_ARRAY.take(rng.integers(0, len(_GIVEN_ARRAY) - 1, size=n))
    second = _GIVEN_ARRAY.take(np.where(rng.random(n) < 0.7, rng.integers(0, len(_GIVEN_ARRAY), size=n),
                                        len(_GIVEN_ARRAY) - 1))
    return pc.binary_join_element_wise(surnames, first, second, "")


def _birth_slot(j: np.ndarray, days: int) -> np.ndarray:
    """A one-to-one spread of 0…days-1 onto itself, so consecutive people are not born on one day."""
    step = 7919
    while math.gcd(step, days) != 1:
        step += 2
    return (j * step) % days


def person_table(rng: np.random.Generator, role: str, n: int, born: tuple[int, int]) -> pa.Table:
    """``n`` distinct people of one role: person_name, id_number, birth_date, gender (男/女)."""
    first = np.datetime64(f"{born[0]}-01-01")
    days = int((np.datetime64(f"{born[1]}-12-31") - first).astype(int)) + 1
    capacity = len(BACKGROUND_AREAS) * SEQ_BAND * days
    if n > capacity:
        raise ValueError(f"role {role}: {n} people exceed the ID space ({capacity})")
    k = np.arange(n, dtype=np.int64)
    seq = ROLES.index(role) * SEQ_BAND + k % SEQ_BAND
    rest = k // SEQ_BAND
    area = BACKGROUND_AREAS[rest % len(BACKGROUND_AREAS)]
    birth = first + _birth_slot(rest // len(BACKGROUND_AREAS), days).astype("timedelta64[D]")
    return pa.table({
        "person_name": person_names(rng, n),
        "id_number": id_numbers(area, birth, seq),
        "birth_date": pa.array(birth.astype("datetime64[D]"), pa.date32()),
        "gender": pa.array(np.where(seq % 2 == 1, "男", "女")),
    })


def trade_names(index: np.ndarray) -> np.ndarray:
    """Distinct four-character trade names (字号) from distinct indices (< 40 × 91³)."""
    span = len(TRADE_FIRST) * len(TRADE_REST) ** 3
    if (index >= span).any():
        raise ValueError("trade-name index out of range")
    scrambled = (index * 7_368_787) % span  # a bijection (the multiplier is prime to span): neighbours differ
    out = TRADE_FIRST[scrambled % len(TRADE_FIRST)]
    rest = scrambled // len(TRADE_FIRST)
    for _ in range(3):
        out = np.char.add(out, TRADE_REST[rest % len(TRADE_REST)])
        rest //= len(TRADE_REST)
    return out


def company_names(rng: np.random.Generator, index: np.ndarray, industries: np.ndarray) -> np.ndarray:
    """Registered names: an optional region, a distinct trade name, the industry and a legal form."""
    n = len(index)
    region = rng.choice(REGION_PREFIXES, size=n)
    form = np.where(rng.random(n) < 0.7, "有限公司", "有限责任公司")
    return np.char.add(np.char.add(np.char.add(region, trade_names(index)), industries), form)

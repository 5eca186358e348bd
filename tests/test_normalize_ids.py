"""Our vectorised GB 11643 / GB 32100 validators agree with python-stdnum (the oracle).

Hypothesis draws whole columns of random and mutated numbers; each column is
normalised in one Polars pass and compared value by value with stdnum.
"""

from __future__ import annotations

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum.cn import ric, uscc

from engine.ingest.normalize import ids
from engine.ingest.normalize.columns import normalize_values
from engine.spec.catalog import ColumnSpec

USCC_ALPHABET = ids.USCC_ALPHABET
ID_COLUMN = ColumnSpec(name="c", type="id_cn", zh="身份证号")
CODE_COLUMN = ColumnSpec(name="c", type="credit_code", zh="统一社会信用代码")

bodies = st.text(alphabet="0123456789", min_size=17, max_size=17)


def stdnum_id_ok(number: str) -> bool:
    """stdnum's checksum on a well-formed 18-character number (birth date and area not judged)."""
    return (len(number) == 18 and number[:17].isdigit() and number[17] in "0123456789X"
            and ric.calc_check_digit(number) == number[17])


def with_check(body: str) -> str:
    return body + ric.calc_check_digit(body + "0")


@st.composite
def mutated_ids(draw):
    number = with_check(draw(bodies))
    kind = draw(st.sampled_from(["keep", "substitute", "swap", "truncate", "letter"]))
    chars = list(number)
    if kind == "substitute":
        i = draw(st.integers(0, 17))
        chars[i] = draw(st.sampled_from("0123456789X"))
    elif kind == "swap":
        i = draw(st.integers(0, 16))
        chars[i], chars[i + 1] = chars[i + 1], chars[i]
    elif kind == "truncate":
        chars = chars[: draw(st.integers(1, 17))]
    elif kind == "letter":
        chars[draw(st.integers(0, 16))] = draw(st.sampled_from("ABCZ"))
    return "".join(chars)


@settings(max_examples=60, deadline=None)
@given(st.lists(bodies, min_size=1, max_size=300))
def test_check_character_matches_stdnum(column):
    ours = pl.DataFrame({"v": column}).select(ids.id_check_char(pl.col("v")).alias("c"))["c"].to_list()
    assert ours == [ric.calc_check_digit(b + "0") for b in column]


@settings(max_examples=80, deadline=None)
@given(st.lists(mutated_ids(), min_size=1, max_size=300))
def test_validity_flag_matches_stdnum_on_random_and_mutated_numbers(column):
    out = normalize_values(ID_COLUMN, column)
    old_form = [len(n) == 15 and n.isdigit() for n in column]  # converted to 18 characters, hence valid
    assert out["c_valid"].to_list() == [stdnum_id_ok(n) or old for n, old in zip(column, old_form, strict=True)]
    # Other numbers are never "corrected": the value stays as read.
    assert [v for v, old in zip(out["c"].to_list(), old_form, strict=True) if not old] == [
        n for n, old in zip(column, old_form, strict=True) if not old]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.text(alphabet="0123456789", min_size=15, max_size=15), min_size=1, max_size=200))
def test_fifteen_digit_conversion_yields_numbers_stdnum_accepts(column):
    out = normalize_values(ID_COLUMN, column)["c"].to_list()
    for old, new in zip(column, out, strict=True):
        century = "18" if old[12:15] in ("996", "997", "998", "999") else "19"
        assert new[:17] == old[:6] + century + old[6:]
        assert stdnum_id_ok(new)


code_bodies = st.builds(lambda a, b, c: a + b + c,
                        st.text(alphabet="0123456789", min_size=2, max_size=2),
                        st.text(alphabet="0123456789", min_size=6, max_size=6),
                        st.text(alphabet=USCC_ALPHABET, min_size=9, max_size=9))


@st.composite
def mutated_codes(draw):
    body = draw(code_bodies)
    number = body + uscc.calc_check_digit(body)
    if draw(st.booleans()):
        chars = list(number)
        chars[draw(st.integers(0, 17))] = draw(st.sampled_from(USCC_ALPHABET))
        number = "".join(chars)
    return number


@settings(max_examples=80, deadline=None)
@given(st.lists(mutated_codes(), min_size=1, max_size=300))
def test_credit_code_validity_matches_stdnum(column):
    out = normalize_values(CODE_COLUMN, column)
    assert out["c_valid"].to_list() == [uscc.is_valid(n) for n in column]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.text(alphabet=USCC_ALPHABET, min_size=17, max_size=17), min_size=1, max_size=200))
def test_credit_code_check_character_matches_stdnum_on_any_alphabet_body(column):
    ours = pl.DataFrame({"v": column}).select(ids.uscc_check_char(pl.col("v")).alias("c"))["c"].to_list()
    assert ours == [uscc.calc_check_digit(b) for b in column]


def test_letter_prefixed_codes_are_accepted_where_stdnum_is_stricter():
    # GB 32100 allows letters in positions 1–2 (e.g. 'N' for farmers' cooperatives);
    # stdnum wants digits there. We accept them when the check character holds.
    body = "N2510104MA61R9XX7"
    code = body + uscc.calc_check_digit(body)
    assert not uscc.is_valid(code)
    assert normalize_values(CODE_COLUMN, [code])["c_valid"][0] is True


def test_digits_of_other_scripts_are_invalid_and_never_break_the_batch():
    # Arabic-Indic and Devanagari digits match a Unicode \d; each is several bytes, which once broke the
    # byte-matrix check (a whole file's ingest failed). They are not ID digits: flagged invalid, kept as read.
    good = "11010119900307757" + ric.calc_check_digit("110101199003077570")
    foreign = ["١١٠١٠١١٩٩٠٠٣٠٧٧٥٧٢", "११०१०११९९००३०७७५७२", "١١٠١٠١٩٠٠٣٠٧٧٥٧"]
    out = normalize_values(ID_COLUMN, [good, *foreign, good])
    assert out["c_valid"].to_list() == [True, False, False, False, True]
    assert out["c"].to_list()[1:4] == foreign
    codes = normalize_values(CODE_COLUMN, ["٩١٥١٠١٠٦JURQ283F7H", "91510106JURQ283F7H"])
    assert codes["c_valid"].to_list() == [False, uscc.is_valid("91510106JURQ283F7H")]

"""Resident ID numbers (GB 11643) and unified social credit codes (GB 32100).

Vectorised check-character computation: the first 17 characters of every
well-formed number, as bytes, weighted with one matrix product per batch
(:func:`_weighted_sums`); no Python loop over rows. python-stdnum is the test
oracle (tests/test_normalize_ids.py).

Normal forms:

* ``id_cn``: 18 characters, last may be ``X``. A 15-digit number is converted
  (insert ``19`` after the area code, ``18`` when the sequence is 996–999, then
  compute the check character). A value that fails its check character stays
  as read (cleaned of spaces and hyphens, upper case) and is flagged invalid.
* ``credit_code``: 18 upper-case characters; failing the check is a flag only.

The functions take materialised columns (``pl.col``); see
:func:`engine.ingest.normalize.columns.column_plan` for the staging.

Example::

    compact = compact_code(clean(pl.col("id_number")))      # stage 1
    value = id_cn(pl.col("__compact"))                       # stage 2
    valid = id_cn_valid(pl.col("id_number"))                 # stage 3
"""

from __future__ import annotations

import numpy as np
import polars as pl
import pyarrow as pa

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK_CHARS = "10X98765432"
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)

_SEPARATORS = r"[\s\-_‐‑‒–—―−]+"


def compact_code(cleaned: pl.Expr) -> pl.Expr:
    """Separators removed, upper case."""
    return cleaned.str.replace_all(_SEPARATORS, "").str.to_uppercase()


def _weighted_sums(weights: tuple[int, ...], char_values: np.ndarray, body: str):
    """A batch function: Σ weight × value of each string's first 17 characters, null unless they match
    ``body``, a pattern of ASCII classes only (``\\d`` would match other scripts' digits, several bytes
    each). Computed on the bytes: the matching heads are 17 ASCII bytes each, contiguous in one Arrow
    buffer, viewed as an n × 17 matrix and weighted with one matrix product — the check characters read
    every ID number of every row (the validity flag: 0.28 s → 0.09 s per 600 k numbers, against 17 Polars
    slices each)."""
    weight_vector = np.asarray(weights, np.int64)

    def batch(values: pl.Series) -> pl.Series:
        heads = values.str.slice(0, 17)
        mask = heads.str.contains(body).fill_null(False)
        shaped = heads.filter(mask).cast(pl.Binary).to_arrow()
        if isinstance(shaped, pa.ChunkedArray):
            shaped = shaped.combine_chunks()
        shaped = shaped.cast(pa.large_binary())
        offsets = np.frombuffer(shaped.buffers()[1], np.int64)[shaped.offset:shaped.offset + len(shaped) + 1]
        data = shaped.buffers()[2]
        raw = (np.frombuffer(data, np.uint8)[offsets[0]:offsets[-1]] if data is not None and len(shaped)
               else np.empty(0, np.uint8))
        totals = np.zeros(len(values), np.int64)
        totals[mask.to_numpy()] = char_values[raw.reshape(-1, 17)] @ weight_vector
        return pl.select(pl.when(mask).then(pl.Series(totals))).to_series()

    return batch


def _byte_values(alphabet: str) -> np.ndarray:
    """Each byte's value in ``alphabet`` (its position), -1 elsewhere."""
    values = np.full(256, -1, np.int64)
    values[np.frombuffer(alphabet.encode("ascii"), np.uint8)] = np.arange(len(alphabet))
    return values


_ID_SUMS = _weighted_sums(ID_WEIGHTS, _byte_values("0123456789"), r"^[0-9]{17}$")
_CODE_SUMS = _weighted_sums(USCC_WEIGHTS, _byte_values(USCC_ALPHABET), rf"^[{USCC_ALPHABET}]{{17}}$")


def id_check_char(value: pl.Expr) -> pl.Expr:
    """The GB 11643 check character of the first 17 characters (null unless digits)."""
    total = value.map_batches(_ID_SUMS, return_dtype=pl.Int64)
    return (total % 11).replace_strict(list(range(11)), list(ID_CHECK_CHARS), return_dtype=pl.String)


def _eighteen_of_fifteen(numbers: pl.Series) -> pl.Series:
    """The 18-character form of 15-digit numbers (century inserted after the area code, check character
    appended); the batch's other values as they are. Only the (rare) 15-digit rows are rebuilt."""
    old = numbers.str.contains(r"^[0-9]{15}$").fill_null(False)
    if not old.any():
        return numbers
    short = pl.col("n")
    century = pl.when(short.str.slice(12, 3).is_in(["996", "997", "998", "999"])).then(pl.lit("18")).otherwise(
        pl.lit("19"))
    body = pl.concat_str([short.str.slice(0, 6), century, short.str.slice(6, 9)])
    converted = numbers.filter(old).to_frame("n").select(pl.concat_str([body, id_check_char(body)]))
    return numbers.clone().scatter(old.arg_true(), converted.to_series())  # the batch itself stays as read


def id_cn(compact: pl.Expr) -> pl.Expr:
    """Normal 18-character form; a 15-digit number is converted, anything else kept."""
    return compact.map_batches(_eighteen_of_fifteen, return_dtype=pl.String)


def id_cn_valid(value: pl.Expr) -> pl.Expr:
    """True when the normal form is 17 digits plus the right check character."""
    ok = value.str.contains(r"^[0-9]{17}[0-9X]$") & (value.str.slice(17, 1) == id_check_char(value))
    return ok.fill_null(False)


def uscc_check_char(value: pl.Expr) -> pl.Expr:
    """The GB 32100 check character of the first 17 characters (null if out of alphabet)."""
    r = (31 - value.map_batches(_CODE_SUMS, return_dtype=pl.Int64) % 31) % 31
    return r.replace_strict(list(range(31)), list(USCC_ALPHABET), return_dtype=pl.String)


def credit_code_valid(value: pl.Expr) -> pl.Expr:
    shape = value.str.contains(rf"^[{USCC_ALPHABET}]{{2}}[0-9]{{6}}[{USCC_ALPHABET}]{{10}}$")
    return (shape & (value.str.slice(17, 1) == uscc_check_char(value))).fill_null(False)

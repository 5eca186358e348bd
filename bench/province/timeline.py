"""Dates, months and sizes shared by the province-scale generator (numpy datetime64, no Python loops).

The benchmark's night is the sample generator's: as-of date 2024-06-30. Monthly payments cover the
24 months July 2022 – June 2024 (month index 0 … 23). ``ROWS_AT_SCALE_1`` fixes how many rows (or
people) each dataset has at scale S = 1 (≈ 100 million rows); every count scales linearly with S.

Example::

    counts = sizes(0.01)                # e.g. counts["pensioners"] == 20000
    month_dates(np.array([0, 23]))      # 2022-07-01, 2024-06-01
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from sample_data.generate import AS_OF  # the night of the sample generator: 2024-06-30

AS_OF64 = np.datetime64(AS_OF, "D")
FIRST_MONTH = np.datetime64("2022-07", "M")
MONTHS = 24

# People or rows per dataset at S = 1. Payments: people × 24 months (fewer for those who die, leave or
# are held in custody): ≈ 48 M pension rows and ≈ 35 M dibao rows.
ROWS_AT_SCALE_1 = {
    "pensioners": 2_000_000,
    "dibao_members": 1_500_000,
    "custody_spells": 200_000,
    "death_records": 800_000,
    "driver_licenses": 8_000_000,
    "drug_users": 200_000,
    "criminal_judgments": 500_000,
    "business_registry": 2_500_000,
    "food_licenses": 400_000,
    "admin_penalties": 300_000,
    "criminal_cases": 400_000,
    "construction_permits": 100_000,
    "wage_complaints": 50_000,
    "lending_judgments": 300_000,
    "tax_filings": 4_500_000,
    "school_staff": 1_000_000,
}
MINIMUM = 40  # every dataset keeps some background rows even at tiny scales


def sizes(scale: float) -> dict[str, int]:
    return {name: max(MINIMUM, round(rows * scale)) for name, rows in ROWS_AT_SCALE_1.items()}


def month_dates(index: np.ndarray) -> np.ndarray:
    """Month index (0 = July 2022) → the first day of that month (datetime64[D])."""
    return (FIRST_MONTH + index.astype("timedelta64[M]")).astype("datetime64[D]")


def month_index(days: np.ndarray) -> np.ndarray:
    """Dates (datetime64[D]) → month index relative to July 2022 (may be negative or beyond 23)."""
    return (days.astype("datetime64[M]") - FIRST_MONTH).astype(np.int64)


def random_days(rng: np.random.Generator, n: int, first: str | np.datetime64, last: str | np.datetime64
                ) -> np.ndarray:
    """Uniform random dates in [first, last] (datetime64[D])."""
    lo, hi = np.datetime64(first, "D"), np.datetime64(last, "D")
    return lo + rng.integers(0, int((hi - lo).astype(int)) + 1, size=n).astype("timedelta64[D]")


def add_years(days: np.ndarray, years: int) -> np.ndarray:
    """The same calendar day ``years`` later; 29 February becomes 28 February (MODELS.md)."""
    month = days.astype("datetime64[M]")
    day_of_month = (days - month.astype("datetime64[D]")).astype(np.int64)
    target = (month + np.timedelta64(12 * years, "M")).astype("datetime64[D]")
    next_month = (month + np.timedelta64(12 * years + 1, "M")).astype("datetime64[D]")
    last_day = (next_month - target).astype(np.int64) - 1
    return target + np.minimum(day_of_month, last_day).astype("timedelta64[D]")


def explode(owner: np.ndarray, first: np.ndarray, last: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Intervals [first, last] of month indices per owner → one (owner, month index) row per month.

    Empty intervals (last < first) give no rows. Example: owner [7], first [2], last [4] →
    owners [7, 7, 7], months [2, 3, 4].
    """
    lengths = np.maximum(last - first + 1, 0)
    keep = lengths > 0
    owner, first, lengths = owner[keep], first[keep], lengths[keep]
    starts = np.repeat(np.cumsum(lengths) - lengths, lengths)
    months = np.repeat(first, lengths) + (np.arange(lengths.sum()) - starts)
    return np.repeat(owner, lengths), months


def dates(values: np.ndarray) -> pa.Array:
    """datetime64[D] (NaT = empty) → an Arrow date32 array."""
    return pa.array(values.astype("datetime64[D]"), pa.date32(), mask=np.isnat(values))

"""M09: planted cases and near misses (to be written)."""

from __future__ import annotations

import datetime as dt


def plant(build, as_of: dt.date) -> None:
    """Add the rows and expected clues of this model."""

"""The search keys of published clues (the ``clue_search`` table): for each clue its subject's name
(``name``) and every ID number in its subject and evidence (``id``, upper-case, the subject's ``:year``
suffix dropped), computed column-wise with Polars from a run's clue table.

Example::

    keys = search_keys(pl.DataFrame({"clue_id": ["c1"], "subject_id": ["510104198001010014:2022"],
                                     "subject_name": ["张伟"], "evidence": ['{"id": "51010519900101002x"}']}))
    keys.rows()   # [('c1', 'id', '510104198001010014'), ('c1', 'id', '51010519900101002X'), ('c1', 'name', '张伟')]
"""

from __future__ import annotations

import polars as pl

# Runs of digits with an optional check letter; those of an ID number's length are kept (a longer run —
# a bank card — or a shorter one is not an ID). Polars' regex has no look-around, hence the two steps.
_DIGIT_RUN = r"\d+[Xx]?"
_ID = r"^(\d{17}[\dX]|\d{15})$"
KEY_LENGTH = 200


def search_keys(frame: pl.DataFrame) -> pl.DataFrame:
    """``clue_id, kind, key`` rows, distinct, sorted; ``frame`` has clue_id, subject_id, subject_name,
    evidence."""
    ids = (frame.select("clue_id", pl.concat_list(
        pl.col("subject_id").str.split(":").list.first().str.extract_all(_DIGIT_RUN),
        pl.col("evidence").str.extract_all(_DIGIT_RUN)).alias("key"))
        .explode("key").with_columns(pl.col("key").str.to_uppercase())
        .filter(pl.col("key").str.contains(_ID)).with_columns(kind=pl.lit("id")))
    names = (frame.select("clue_id", pl.col("subject_name").str.strip_chars().str.slice(0, KEY_LENGTH).alias("key"))
             .filter(pl.col("key").str.len_chars() > 0).with_columns(kind=pl.lit("name")))
    return (pl.concat([ids.select("clue_id", "kind", "key"), names.select("clue_id", "kind", "key")])
            .unique().sort("clue_id", "kind", "key"))

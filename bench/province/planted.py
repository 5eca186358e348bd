"""The planted cases: the seeded sample generator's scenarios, rendered as agencies type them.

``sample_data.scenarios.plant_all`` plants, for every model, the violations MODELS.md defines and their
near misses (boundaries of dates and amounts, ID typos, look-alike companies, other phases …), and
writes the expected clues from its own plain-Python reading of MODELS.md. Here its rows are rendered
exactly as ``sample_data.generate`` renders them (the same messy forms: spaced and full-width IDs,
traditional characters, dates and amounts in every notation), and each dataset gets the generator's
unreadable rows (``BROKEN``) and exact duplicates (``DUPLICATES``), so the quarantine and
de-duplication accounting is checked at province scale too.

The planted people, companies and numbers come from the sample generator's own pools (central
Chengdu area codes, its given-name and trade-name characters), which the background never uses
(``bench.province.population``): the two can never meet, and the truth stays exactly the generator's.

Example::

    planted = plant(seed=20240630)
    planted.tables["prison_roster"].num_rows, planted.truth["prisoner_dibao"]["default"]
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

import pyarrow as pa

from engine.spec.catalog import Catalogue, load_catalogue
from sample_data import scenarios
from sample_data.generate import AS_OF, BROKEN, DUPLICATES, FIRST_MONTH, REPO, Build
from sample_data.generate import _render as render_cells  # the generator's own messy rendering of a row
from sample_data.messy import Messer
from sample_data.orgs import OrgFactory
from sample_data.people import Population

MONTH_COLUMN = "_month"  # the payment month of each row (clean), for placing it in its monthly file
SAMPLE_SCALE = 100  # background people of the sample generator itself (its near misses en masse)


@dataclass
class Planted:
    tables: dict[str, pa.Table]  # text cells per dataset (catalogue column names) + MONTH_COLUMN
    truth: dict[str, dict[str, dict[str, dict]]]  # model → rule → subject → {"amount", …}
    quarantined: dict[str, int]
    duplicates: dict[str, int]


def _text_table(catalogue: Catalogue, dataset: str, cells: list[list[str]], months: list) -> pa.Table:
    names = catalogue.dataset(dataset).column_names
    columns = {name: pa.array([row[i] or None for row in cells], pa.string()) for i, name in enumerate(names)}
    columns[MONTH_COLUMN] = pa.array(months, pa.date32())
    return pa.table(columns)


def plant(seed: int, sample_scale: int = SAMPLE_SCALE) -> Planted:
    """Run every scenario once with ``seed``; render its rows, broken rows and duplicates."""
    rng = random.Random(seed)
    catalogue = load_catalogue(REPO / "models" / "sources.yaml")
    build = Build(rng, Population(rng), catalogue, sample_scale, OrgFactory(rng))
    scenarios.plant_all(build, AS_OF, FIRST_MONTH)
    mess = Messer(random.Random(seed + 1))
    tables, quarantined, duplicates = {}, {}, {}
    for dataset, rows in build.rows.items():
        cells = [render_cells(build, dataset, row, mess, False) for row in rows]
        months: list[dt.date | None] = [row.get("pay_month") for row in rows]
        for column, bad, *only in BROKEN.get(dataset, []):  # a real row with one cell broken
            fits = [r for r in rows if all(r.get(k) == v for k, v in (only[0] if only else {}).items())]
            template = dict(rng.choice(fits))
            months.append(template.get("pay_month"))
            template[column] = bad
            cells.append(render_cells(build, dataset, template, mess, False))
        for _ in range(DUPLICATES.get(dataset, 0)):  # an exact copy of a real row
            at = rng.randrange(len(rows))
            cells.append(list(cells[at]))
            months.append(months[at])
        tables[dataset] = _text_table(catalogue, dataset, cells, months)
        quarantined[dataset] = len(BROKEN.get(dataset, []))
        duplicates[dataset] = DUPLICATES.get(dataset, 0)
    return Planted(tables, build.truth, quarantined, duplicates)

"""Data-quality results for a run: which datasets may be used, and why not.

Two kinds of gates, both recorded in the manifest's ``quality`` list:

* the basic gates every run applies, all blocking: the dataset has files under
  the data root, every file could be read, and the dataset was ingested;
* the checks declared per dataset under ``quality:`` in ``models/sources.yaml``
  (non-null rate, valid-ID rate, value set, date range, row-count change,
  freshness, uniqueness, not empty), run through great-expectations by
  :func:`engine.quality.expectations.run_expectations`. A blocking check that
  fails keeps its dataset out of the run; a warning is only reported.

Quarantined rows alone never block (they are counted and reported). No result
ever carries a full ID number: examples from ID columns are masked
(``510104********0019``).

Example::

    results = basic_checks(ingest_result)      # then engine.quality.expectations.run_expectations(…)
    blocked = {r.dataset for r in results if r.blocking and not r.passed}
"""

from __future__ import annotations

from engine.ingest.ingest import IngestResult
from engine.quality.results import BASIC_NAMES, QualityResult


def basic_checks(ingested: IngestResult) -> list[QualityResult]:
    results = []
    for d in ingested.datasets:
        results.append(QualityResult(d.name, "dataset_present", True, d.missing is None,
                                     d.missing or f"{len(d.files)} file(s)", BASIC_NAMES["dataset_present"]))
        if d.missing:
            continue
        errors = d.file_errors
        results.append(QualityResult(d.name, "files_readable", True, not errors,
                                     "; ".join(errors) if errors else f"{len(d.files)} file(s) read",
                                     BASIC_NAMES["files_readable"]))
        results.append(QualityResult(d.name, "ingested", True, d.error is None,
                                     d.error or f"{d.rows_accepted} rows accepted", BASIC_NAMES["ingested"]))
    return results

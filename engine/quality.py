"""Data-quality results for a run: which datasets may be used, and why not.

The basic gates every run applies, all blocking: the dataset has files under
the data root, every file could be read, and the dataset was ingested.
Quarantined rows alone never block (they are counted and reported).

Example::

    results = basic_checks(ingest_result)
    blocked = {r.dataset for r in results if r.blocking and not r.passed}
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.ingest import IngestResult


@dataclass
class QualityResult:
    dataset: str
    check: str
    blocking: bool
    passed: bool
    observed: str


def basic_checks(ingested: IngestResult) -> list[QualityResult]:
    results = []
    for d in ingested.datasets:
        results.append(QualityResult(d.name, "dataset_present", True, d.missing is None,
                                     d.missing or f"{len(d.files)} file(s)"))
        if d.missing:
            continue
        errors = d.file_errors
        results.append(QualityResult(d.name, "files_readable", True, not errors,
                                     "; ".join(errors) if errors else f"{len(d.files)} file(s) read"))
        results.append(QualityResult(d.name, "ingested", True, d.error is None,
                                     d.error or f"{d.rows_accepted} rows accepted"))
    return results

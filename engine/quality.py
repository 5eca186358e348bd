"""Data-quality results for a run: which datasets may be used, and why not.

Two kinds of gates, both recorded in the manifest's ``quality`` list:

* the basic gates every run applies, all blocking: the dataset has files under
  the data root, every file could be read, and the dataset was ingested;
* the checks declared per dataset under ``quality:`` in ``models/sources.yaml``
  (non-null rate, valid-ID rate, value set, date range, row-count change,
  freshness, uniqueness), run through great-expectations by
  :func:`run_expectations` (``engine/quality_gx.py``). A blocking check that
  fails keeps its dataset out of the run; a warning is only reported.

Quarantined rows alone never block (they are counted and reported). No result
ever carries a full ID number: examples from ID columns are masked
(``510104********0019``).

Example::

    results = basic_checks(ingest_result)
    results += run_expectations(catalogue, ingest_result, as_of, previous_rows={"dibao_payments": 17000})
    blocked = {r.dataset for r in results if r.blocking and not r.passed}
    render_quality_html(results, run_id, as_of, run_dir / "quality.html")
"""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass, field
from pathlib import Path

from engine.catalog import Catalogue
from engine.ingest import IngestResult
from engine.masking import mask_text
from engine.report.outputs import atomic_write_bytes

BASIC_NAMES = {"dataset_present": "数据文件存在", "files_readable": "文件均可读取", "ingested": "导入成功"}
CHECK_ZH = {"dataset_present": "文件存在", "files_readable": "文件可读", "ingested": "导入",
            "non_null_rate": "非空率", "valid_id_rate": "证件号校验", "value_set": "取值范围",
            "date_range": "日期范围", "row_count_change": "行数变化", "freshness": "时效性", "unique": "唯一性",
            "not_empty": "非空数据集"}


@dataclass
class QualityResult:
    """One check on one dataset. The first five keys are fixed by CONTRACT.md."""

    dataset: str
    check: str  # the check type: dataset_present, …, non_null_rate, valid_id_rate, …
    blocking: bool
    passed: bool
    observed: str  # a short human statement of what was measured
    name: str = ""  # the check's readable (Chinese) name, unique within the dataset
    expectation: str = ""  # the great-expectations expectation type ("" for the basic gates)
    examples: list[str] = field(default_factory=list)  # a few offending values, ID numbers masked


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


def warm_up() -> threading.Thread:
    """Start importing great-expectations in the background (seconds) while the caller ingests."""
    from engine.quality_gx import _gx

    thread = threading.Thread(target=_gx, name="gx-import", daemon=True)
    thread.start()
    return thread


def run_expectations(catalogue: Catalogue, ingested: IngestResult, as_of: dt.date,
                     previous_rows: dict[str, int] | None = None) -> list[QualityResult]:
    """Run every ``quality:`` check of the catalogue on the ingested (staged) datasets.

    ``previous_rows``: accepted rows per dataset in the previous load, for ``row_count_change``
    (a dataset absent from it has no previous load, and the check passes). Datasets that were not
    ingested (missing, or failed) are skipped: :func:`basic_checks` already blocks them.
    great-expectations is imported here, on first use (the import takes seconds).
    """
    from engine.quality_gx import run_expectations as run

    return run(catalogue, ingested, as_of, previous_rows)


# --------------------------------------------------------------------------- masking

# --------------------------------------------------------------------------- the HTML page


def render_quality_html(results: list[QualityResult], run_id: str, as_of: dt.date, path: Path,
                        titles: dict[str, str] | None = None) -> None:
    """Write ``数据质量检查结果`` as one self-contained Chinese HTML page (atomically).

    Per dataset a table: 检查, 类型（阻断/警告）, 结果（通过/未通过）, 观测值. ``titles`` maps dataset
    names to their Chinese titles (e.g. ``{d.name: d.title for d in catalogue.datasets}``).
    """
    import jinja2

    titles = titles or {}
    groups: dict[str, list[dict]] = {}
    for r in results:
        groups.setdefault(r.dataset, []).append({
            "name": r.name or BASIC_NAMES.get(r.check, r.check), "check": r.check,
            "check_zh": CHECK_ZH.get(r.check, r.check), "blocking": r.blocking, "passed": r.passed,
            "observed": mask_text(r.observed), "examples": [mask_text(e) for e in r.examples],
            "expectation": r.expectation,
        })
    datasets = []
    for name, rows in groups.items():
        failed_blocking = sum(1 for r in rows if r["blocking"] and not r["passed"])
        failed_warning = sum(1 for r in rows if not r["blocking"] and not r["passed"])
        datasets.append({"name": name, "title": titles.get(name, ""), "rows": rows,
                         "failed_blocking": failed_blocking, "failed_warning": failed_warning})
    context = {
        "run_id": run_id, "as_of": as_of.isoformat(), "datasets": datasets, "total": len(results),
        "passed": sum(1 for r in results if r.passed),
        "failed_blocking": sum(1 for r in results if r.blocking and not r.passed),
        "failed_warning": sum(1 for r in results if not r.blocking and not r.passed),
        "blocked": [d["name"] for d in datasets if d["failed_blocking"]],
    }
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(Path(__file__).parent / "report" / "templates"),
                             autoescape=jinja2.select_autoescape(["html", "j2"]), undefined=jinja2.StrictUndefined)
    page = env.get_template("quality.html.j2").render(**context)
    atomic_write_bytes(Path(path), page.encode("utf-8"))

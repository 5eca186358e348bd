"""``quality.html``: the data-quality checks of one run as a self-contained Chinese page.

Example::

    render_quality_html(results, run_id, as_of, run_dir / "quality.html", titles)
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import jinja2

from engine.atomic import atomic_write_bytes
from engine.masking import mask_text
from engine.quality.results import BASIC_NAMES, CHECK_ZH, QualityResult


def render_quality_html(results: list[QualityResult], run_id: str, as_of: dt.date, path: Path,
                        titles: dict[str, str] | None = None) -> None:
    """Write ``数据质量检查结果`` as one self-contained Chinese HTML page (atomically).

    Per dataset a table: 检查, 类型（阻断/警告）, 结果（通过/未通过）, 观测值. ``titles`` maps dataset
    names to their Chinese titles (e.g. ``{d.name: d.title for d in catalogue.datasets}``).
    """
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
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
                             autoescape=jinja2.select_autoescape(["html", "j2"]), undefined=jinja2.StrictUndefined)
    page = env.get_template("quality.html.j2").render(**context)
    atomic_write_bytes(Path(path), page.encode("utf-8"))

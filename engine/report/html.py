"""``report.html``: one self-contained page a prosecutor opens without a server.

Per model: the legal basis, the number of clues (per rule), the total amount,
a bar chart of the largest clues, and the clues to review first with their
evidence (the original records: dataset, file, row, fields). Every ID number
on the page is masked (``510104********0019``); the full values stay in the
run directory's data files for those entitled to them.

Example::

    render_report(clues, manifest, plans, run_dir / "report.html")
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import jinja2
import pyarrow as pa

from engine.atomic import atomic_write_bytes
from engine.masking import mask_ids
from engine.report.charts import bar_chart
from engine.report.timeline import timeline_svg

TOP_N = 20
STATUS_ZH = {"ok": "完成", "failed": "失败", "skipped": "跳过", "partial": "部分完成"}
STATE_ZH = {"new": "新增", "persisting": "持续", "reopened": "重现", "resolved": "已消失"}


def yuan(value) -> str:
    if value is None:
        return "—"
    return f"{Decimal(value):,.2f}元"


def _period(start, end) -> str:
    if start is None and end is None:
        return "—"

    months = all(d is None or d.day == 1 for d in (start, end))  # payment months are stored as month starts

    def fmt(d) -> str:
        if d is None:
            return ""
        return f"{d.year}年{d.month}月" if months else f"{d.year}年{d.month}月{d.day}日"

    return f"{fmt(start)}至{fmt(end)}" if start != end else fmt(start)


def _fields_text(fields: dict) -> str:
    parts = [f"{k}={v}" for k, v in (fields or {}).items() if v is not None]
    return mask_ids("；".join(parts))


def build_context(clues: pa.Table, manifest: dict, plans: dict, states: dict | None = None) -> dict:
    rows = clues.to_pylist()
    by_model: dict[str, list[dict]] = {}
    for row in rows:
        by_model.setdefault(row["model_id"], []).append(row)
    models = []
    total_amount = Decimal(0)
    for entry in manifest["models"]:
        plan = plans.get(entry["id"])
        mine = by_model.get(entry["id"], [])
        states_here = {r["clue_id"]: (states or {}).get(r["clue_id"]) for r in mine}
        # New clues first (E5 lifecycle), then the model's own ranking within each rule.
        mine.sort(key=lambda r: (0 if states_here.get(r["clue_id"]) in ("new", "reopened") else 1,
                                 r["rank"], r["rule_id"]))
        amount = sum((Decimal(r["amount"]) for r in mine if r["amount"] is not None), Decimal(0))
        total_amount += amount
        rule_titles = {rp.rule_id: rp.title for rp in plan.rules} if plan else {}
        top = []
        for r in mine[:TOP_N]:
            evidence = json.loads(r["evidence"]) if r["evidence"] else {}
            values = evidence.get("values") or {}
            top.append({
                "rank": r["rank"], "rule_title": rule_titles.get(r["rule_id"], r["rule_id"]),
                "subject_name": r["subject_name"], "subject_id_masked": mask_ids(r["subject_id"] or ""),
                "amount_text": yuan(r["amount"]), "period": _period(r["period_start"], r["period_end"]),
                "score": f"{r['score']:.2f}", "explain": (evidence.get("score") or {}).get("explain", ""),
                "summary": mask_ids(r["summary"] or ""), "state": states_here.get(r["clue_id"]),
                "sources": [{"title": (evidence.get("datasets") or {}).get(s.get("dataset"), s.get("dataset")), "file": s.get("file"), "row": s.get("row"),
                             "fields_text": _fields_text(s.get("fields"))} for s in evidence.get("sources") or []],
                "values_text": mask_ids(json.dumps(values, ensure_ascii=False)) if values else "",
                "timeline": timeline_svg(evidence),  # escaped inside; dates and titles only
            })
        with_amount = [(r["subject_name"] or "", float(r["amount"])) for r in mine if r["amount"] is not None]
        if with_amount:
            chart = bar_chart(sorted(with_amount, key=lambda x: -x[1])[:10], "金额最大的线索（元）")
        else:
            counts: dict[str, int] = {}
            for r in mine:
                counts[rule_titles.get(r["rule_id"], r["rule_id"])] = counts.get(
                    rule_titles.get(r["rule_id"], r["rule_id"]), 0) + 1
            chart = bar_chart(sorted(counts.items(), key=lambda x: -x[1]), "各规则线索数（条）")
        rules = [{"title": rp.title, "count": sum(1 for r in mine if r["rule_id"] == rp.rule_id)}
                 for rp in (plan.rules if plan else [])] if plan and len(plan.rules) > 1 else []
        models.append({
            **entry, "title": plan.title_zh if plan else entry["id"], "title_en": plan.title_en if plan else "",
            "legal_citation": plan.legal_citation if plan else "", "legal_text": plan.legal_text if plan else "",
            "amount_text": yuan(amount) if any(r["amount"] is not None for r in mine) else "—",
            "top": top, "chart": chart, "rules": rules,
        })
    new_clues = None
    if states is not None:
        new_clues = sum(1 for s in states.values() if s in ("new", "reopened"))
    return {"run": manifest, "models": models, "total_clues": len(rows), "total_amount": yuan(total_amount),
            "datasets": manifest.get("datasets", []), "quality": manifest.get("quality", []),
            "status_zh": STATUS_ZH, "state_zh": STATE_ZH, "new_clues": new_clues}


def render_report(clues: pa.Table, manifest: dict, plans: dict, path: Path, states: dict | None = None) -> None:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
                             autoescape=jinja2.select_autoescape(["html", "j2"]), undefined=jinja2.StrictUndefined)
    page = env.get_template("report.html.j2").render(**build_context(clues, manifest, plans, states))
    atomic_write_bytes(path, page.encode("utf-8"))

"""Printable documents of the review service: the 线索移送表 of one clue and the draft 检察建议书 of one
recommendation. HTML pages with a print stylesheet (``static/print.css``: ``@media print`` drops the
navigation and the forms), printed from the browser — no script, no inline style.

Both are for the roles that handle clues (prosecutor, supervisor, admin; others 403), keep the user's
model and county limits (404 outside them), mask every ID number (always: a printout leaves the
system), and are audited as ``print``.
"""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response

from engine.review.auth import Principal, require
from engine.review.evidence_view import evidence_tables
from engine.review.loop import clue_count, get_recommendation, list_recommendations, transfers_of
from engine.review.pages import env, render
from engine.review.queries import Refused, clue_detail, clue_facts
from engine.review.store import audit

router = APIRouter()
# The legal basis every 检察建议书 cites (the model's own basis is cited per clue).
LETTER_BASIS = "《中华人民共和国人民检察院组织法》第二十一条、《人民检察院检察建议工作规定》第十一条"


def zh_date(value) -> str:
    """``2024-06-10`` → ``2024年6月10日`` ('' for nothing)."""
    if not value:
        return ""
    day = value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])
    return f"{day.year}年{day.month}月{day.day}日"


def clause(text: str | None) -> str:
    """A summary as a clause inside a sentence (its closing punctuation dropped)."""
    return (text or "").strip().rstrip("。；;.")


env.filters["zh_date"] = zh_date
env.filters["clause"] = clause


def _printer(request: Request) -> Principal:
    who = require(request)
    if not who.user.can_decide:
        raise HTTPException(403, "此角色不能打印办案文书 / only prosecutors, supervisors and admins print documents")
    return who


def _store(request: Request):
    return request.app.state.store


def _read_for_print(request: Request, who: Principal, document: dict, read):
    """``read(conn)`` in one transaction, audited as ``print`` with ``document`` once it succeeded; a
    refusal (404 outside the user's limits) becomes the HTTP error."""
    try:
        with _store(request).engine.begin() as conn:
            result = read(conn)
            audit(conn, who.user.name, "print", document)
    except Refused as exc:
        raise HTTPException(exc.code, exc.message) from None
    return result


@router.get("/clues/{clue_id}/sheet")
def clue_sheet(request: Request, clue_id: str) -> Response:
    """线索移送表: the clue, its evidence per dataset, the decisions and transfers so far (IDs masked)."""
    who = _printer(request)

    def read(conn):
        return clue_detail(conn, who.user, clue_id), list_recommendations(conn, who.user, clue_id), \
            transfers_of(conn, clue_id)

    item, recs, moved = _read_for_print(request, who, {"document": "clue_sheet", "clue_id": clue_id}, read)
    evidence = item["evidence"] if isinstance(item["evidence"], dict) else {}
    return render("clue_sheet.html", title=f"线索移送表 {clue_id}", who=who, item=item, recs=recs,
                  transfers=moved, tables=evidence_tables(evidence), today=dt.date.today())


def _legal_bases(facts: list[dict]) -> list[str]:
    return list(dict.fromkeys(f["legal_basis"] for f in facts if f["legal_basis"]))


@router.get("/recommendations/{rec_id}/letter")
def recommendation_letter(request: Request, rec_id: int) -> Response:
    """检察建议书 (draft): addressee, date, reply deadline, the covered clues with their facts and basis."""
    who = _printer(request)

    def read(conn):
        rec = get_recommendation(conn, who.user, rec_id)
        facts = clue_facts(conn, who.user, [c["clue_id"] for c in rec["clues"]])
        return rec, facts, clue_count(conn, rec_id) - len(facts)

    rec, facts, hidden = _read_for_print(request, who, {"document": "recommendation_letter",
                                                        "recommendation_id": rec_id}, read)
    return render("letter.html", title=f"检察建议书 #{rec_id}", who=who, rec=rec, facts=facts, hidden=hidden,
                  bases=_legal_bases(facts), letter_basis=LETTER_BASIS)

"""The loop after a clue is confirmed: 检察建议 (a recommendation to an agency over one or more confirmed
clues of one model — 类案), 移送 (a transfer of one confirmed clue to the police or the discipline
commission), the agency's 整改 reply. 回头看 itself runs in ``lsm publish`` (:func:`engine.review.publish.follow_up`).

Every write checks that the user may decide and may see every clue involved, and is audited.
"""

from __future__ import annotations

import calendar
import datetime as dt

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from engine.review.queries import Refused, visible
from engine.review.store import audit, clues, recommendation_clues, recommendations, transfers, utcnow
from engine.review.users import User

TRANSFER_TARGETS = {"police": "公安机关", "discipline": "纪检监察机关"}
RECTIFICATION_LABELS = {"failed": "整改未落实", "rectified": "已整改（数据）"}
MAX_TEXT = 10000


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` plus whole months, the day clamped to the month's end (2024-12-31 + 2 → 2025-02-28)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return day.replace(year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1]))


def _date(value, what: str, required: bool = True) -> dt.date | None:
    if value in (None, ""):
        if required:
            raise Refused(422, f"缺少日期 / {what} is required (YYYY-MM-DD)")
        return None
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise Refused(422, f"日期无效 / {what} must be YYYY-MM-DD") from None


def _text(value, what: str, required: bool = False, limit: int = MAX_TEXT) -> str | None:
    if value in (None, ""):
        if required:
            raise Refused(422, f"缺少 / {what} is required")
        return None
    if not isinstance(value, str) or len(value) > limit:
        raise Refused(422, f"无效 / {what} must be text of at most {limit} characters")
    return value.strip() or None


def _check_decider(user: User) -> None:
    if not user.can_decide:
        raise Refused(403, "此角色不能办理 / this role cannot issue recommendations or transfers")


def _confirmed_clues(conn: Connection, user: User, clue_ids: list[str]):
    rows = conn.execute(sa.select(clues.c.clue_id, clues.c.model_id, clues.c.status)
                        .where(clues.c.clue_id.in_(clue_ids), visible(user))).all()
    found = {r.clue_id: r for r in rows}
    missing = [c for c in clue_ids if c not in found]
    if missing:
        raise Refused(404, f"没有此线索 / no such clue: {missing[0]}")
    unconfirmed = [c for c in clue_ids if found[c].status != "confirmed"]
    if unconfirmed:
        raise Refused(422, f"只能对属实的线索办理 / only confirmed clues: {unconfirmed[0]} is {found[unconfirmed[0]].status}")
    return found


def create_recommendation(conn: Connection, user: User, body: dict) -> int:
    _check_decider(user)
    clue_ids = body.get("clue_ids")
    if not isinstance(clue_ids, list) or not clue_ids or not all(isinstance(c, str) for c in clue_ids):
        raise Refused(422, "须选择至少一条线索 / clue_ids: a non-empty list of clue ids")
    clue_ids = list(dict.fromkeys(clue_ids))
    found = _confirmed_clues(conn, user, clue_ids)
    models = {r.model_id for r in found.values()}
    model_id = body.get("model_id") or (next(iter(models)) if len(models) == 1 else None)
    if len(models) != 1 or model_id not in models:
        raise Refused(422, "一份检察建议只涵盖同一模型的线索（类案）/ all clues must be of the recommendation's model")
    agency = _text(body.get("agency"), "agency", required=True, limit=500)
    issued_on = _date(body.get("issued_on"), "issued_on")
    deadline = _date(body.get("deadline"), "deadline", required=False) or add_months(issued_on, 2)
    if deadline < issued_on:
        raise Refused(422, "回复期限早于发出日期 / deadline is before issued_on")
    note = _text(body.get("note"), "note")
    rec_id = conn.execute(sa.insert(recommendations).values(
        model_id=model_id, agency=agency, issued_on=issued_on, deadline=deadline, note=note,
        created_by=user.name, created_at=utcnow()).returning(recommendations.c.id)).scalar_one()
    conn.execute(sa.insert(recommendation_clues), [{"recommendation_id": rec_id, "clue_id": c} for c in clue_ids])
    audit(conn, user.name, "recommendation", {"id": rec_id, "model_id": model_id, "clue_ids": clue_ids,
                                              "issued_on": issued_on, "deadline": deadline})
    return rec_id


def _present_rec(row, clue_rows: list[dict]) -> dict:
    return {"id": row.id, "model_id": row.model_id, "agency": row.agency, "issued_on": row.issued_on.isoformat(),
            "deadline": row.deadline.isoformat(), "note": row.note, "created_by": row.created_by,
            "created_at": row.created_at.isoformat(timespec="seconds"),
            "reply": ({"replied_on": row.reply_on.isoformat(), "text": row.reply_text, "by": row.reply_by}
                      if row.reply_on else None),
            "clues": clue_rows,
            "rectification_failed": sum(c["rectification"] == "failed" for c in clue_rows),
            "rectified": sum(c["rectification"] == "rectified" for c in clue_rows)}


def _rec_clues(conn: Connection, user: User, rec_ids: list[int]) -> dict[int, list[dict]]:
    rows = conn.execute(sa.select(recommendation_clues.c.recommendation_id, clues.c.clue_id, clues.c.subject_name,
                                  clues.c.lifecycle, clues.c.status, clues.c.rectification)
                        .join(clues, clues.c.clue_id == recommendation_clues.c.clue_id)
                        .where(recommendation_clues.c.recommendation_id.in_(rec_ids), visible(user))
                        .order_by(clues.c.clue_id)).all()
    out: dict[int, list[dict]] = {}
    for r in rows:
        out.setdefault(r.recommendation_id, []).append(
            {"clue_id": r.clue_id, "subject_name": r.subject_name, "lifecycle": r.lifecycle, "status": r.status,
             "rectification": r.rectification})
    return out


def _rec_visible(user: User):
    return recommendations.c.model_id.in_(user.models) if user.models is not None else sa.true()


def list_recommendations(conn: Connection, user: User, clue_id: str | None = None) -> list[dict]:
    query = sa.select(recommendations).where(_rec_visible(user)).order_by(recommendations.c.id.desc())
    if clue_id:
        query = query.where(recommendations.c.id.in_(
            sa.select(recommendation_clues.c.recommendation_id).where(recommendation_clues.c.clue_id == clue_id)))
    rows = conn.execute(query).all()
    linked = _rec_clues(conn, user, [r.id for r in rows])
    # a user limited by county sees only recommendations holding clues they may see
    return [_present_rec(r, linked[r.id]) for r in rows if r.id in linked]


def get_recommendation(conn: Connection, user: User, rec_id: int) -> dict:
    row = conn.execute(sa.select(recommendations).where(recommendations.c.id == rec_id, _rec_visible(user))).first()
    linked = _rec_clues(conn, user, [rec_id]) if row else {}
    if row is None or rec_id not in linked:
        raise Refused(404, "没有此检察建议 / no such recommendation")
    return _present_rec(row, linked[rec_id])


def record_reply(conn: Connection, user: User, rec_id: int, body: dict) -> None:
    """The agency's 整改 reply (date, text); a later reply replaces it (the audit keeps each one)."""
    _check_decider(user)
    get_recommendation(conn, user, rec_id)
    replied_on = _date(body.get("replied_on"), "replied_on")
    text = _text(body.get("text"), "text", required=True)
    conn.execute(sa.update(recommendations).where(recommendations.c.id == rec_id)
                 .values(reply_on=replied_on, reply_text=text, reply_by=user.name))
    audit(conn, user.name, "rectification_reply", {"id": rec_id, "replied_on": replied_on})


def create_transfer(conn: Connection, user: User, clue_id: str, body: dict) -> int:
    _check_decider(user)
    _confirmed_clues(conn, user, [clue_id])
    to = body.get("to")
    if to not in TRANSFER_TARGETS:
        raise Refused(422, "移送对象须为 police 或 discipline / to: police | discipline")
    case_number = _text(body.get("case_number"), "case_number", required=True, limit=200)
    on = _date(body.get("transferred_on"), "transferred_on")
    note = _text(body.get("note"), "note")
    transfer_id = conn.execute(sa.insert(transfers).values(
        clue_id=clue_id, to_agency=to, case_number=case_number, transferred_on=on, note=note,
        created_by=user.name, created_at=utcnow()).returning(transfers.c.id)).scalar_one()
    audit(conn, user.name, "transfer", {"id": transfer_id, "clue_id": clue_id, "to": to, "transferred_on": on})
    return transfer_id


def transfers_of(conn: Connection, clue_id: str) -> list[dict]:
    rows = conn.execute(sa.select(transfers).where(transfers.c.clue_id == clue_id).order_by(transfers.c.id)).all()
    return [{"id": r.id, "to": r.to_agency, "case_number": r.case_number,
             "transferred_on": r.transferred_on.isoformat(), "note": r.note, "created_by": r.created_by}
            for r in rows]


def clue_count(conn: Connection, rec_id: int) -> int:
    """How many clues a recommendation covers, whoever may see them (a county-limited user sees fewer)."""
    return conn.execute(sa.select(sa.func.count()).select_from(recommendation_clues)
                        .where(recommendation_clues.c.recommendation_id == rec_id)).scalar_one()

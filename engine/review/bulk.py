"""Bulk actions on a selection of the queue: assign every clue of a filter (or a checked subset) to a
person, or mark checked clues as duplicates of one kept clue (不属实, reason ``duplicate``).

Each clue goes through :func:`engine.review.queries.decide` — its own decision event, version bump and
``decision`` audit row; a clue that cannot move (a confirmed clue cannot become dismissed, the kept clue
itself, a clue the assignee may not see, one changed meanwhile) is skipped and reported, never half
written. One more audit row (``bulk``) records the action. Deciders only.

Example::

    with store.engine.begin() as conn:
        bulk(conn, user, {"filters": {"model_id": "prisoner_dibao", "recommended": True},
                          "action": "assign", "assignee": "zhang"})
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from engine.masking import mask_text
from engine.review.queries import (
    MOVES,
    STATUS_LABELS,
    Refused,
    can_see,
    clue_row,
    decide,
    parse_filters,
    queue_where,
    visible,
)
from engine.review.store import audit, clues, decision_events
from engine.review.users import User, user_by_name

ACTIONS = ("assign", "duplicate")
MAX_BULK = 5000
MAX_NOTE = 2000


def _selection(conn: Connection, user: User, body: dict) -> tuple[list, list[dict], dict | None]:
    """(the clue rows selected, the ids asked for but not found, the filters used)."""
    clue_ids, filters = body.get("clue_ids"), body.get("filters")
    if (clue_ids is None) == (filters is None):
        raise Refused(422, "须给出 filters 或 clue_ids 之一 / give either filters or clue_ids")
    if clue_ids is not None:
        if not isinstance(clue_ids, list) or not clue_ids or not all(isinstance(c, str) for c in clue_ids):
            raise Refused(422, "须勾选至少一条线索 / clue_ids: a non-empty list of clue ids")
        clue_ids = list(dict.fromkeys(clue_ids))
        if len(clue_ids) > MAX_BULK:
            raise Refused(422, f"一次最多 {MAX_BULK} 条 / at most {MAX_BULK} clues at once")
        rows = conn.execute(sa.select(clues).where(clues.c.clue_id.in_(clue_ids), visible(user))
                            .order_by(clues.c.score.desc(), clues.c.clue_id)).all()
        found = {r.clue_id for r in rows}
        return rows, [{"clue_id": c, "reason": "没有此线索 / no such clue"} for c in clue_ids if c not in found], None
    if not isinstance(filters, dict):
        raise Refused(422, "filters 须为对象 / filters must be an object")
    f = parse_filters(filters)
    rows = conn.execute(sa.select(clues).where(queue_where(conn, user, f))
                        .order_by(clues.c.score.desc(), clues.c.clue_id).limit(MAX_BULK + 1)).all()
    if len(rows) > MAX_BULK:
        raise Refused(422, f"筛选结果超过 {MAX_BULK} 条，请缩小范围 / more than {MAX_BULK} clues: narrow the filter")
    used = {k: v for k, v in filters.items() if v not in (None, "", False) and k not in ("page", "page_size")}
    if "q" in used:
        used["q"] = mask_text(str(used["q"]))
    return rows, [], used


def _note(body: dict) -> str | None:
    note = body.get("note") or None
    if note is not None and (not isinstance(note, str) or len(note) > MAX_NOTE):
        raise Refused(422, f"备注无效 / note must be text of at most {MAX_NOTE} characters")
    return note


def _current_reasons(conn: Connection, ids: list[str]) -> dict[str, str | None]:
    """The reason of each dismissed clue's latest event (kept when the clue is only reassigned)."""
    if not ids:
        return {}
    latest = (sa.select(decision_events.c.clue_id, sa.func.max(decision_events.c.id).label("id"))
              .where(decision_events.c.clue_id.in_(ids)).group_by(decision_events.c.clue_id).subquery())
    return dict(conn.execute(sa.select(decision_events.c.clue_id, decision_events.c.reason)
                             .join(latest, latest.c.id == decision_events.c.id)).all())


def _plan_assign(conn: Connection, body: dict, rows) -> tuple[list[tuple], list[dict], dict]:
    name = body.get("assignee")
    assignee = user_by_name(conn, name) if isinstance(name, str) and name else None
    if assignee is None or assignee.disabled or not assignee.can_decide:
        raise Refused(422, "承办人须为在用的检察官、主管或管理员 / assignee: an enabled prosecutor, supervisor or admin")
    note = _note(body)
    reasons = _current_reasons(conn, [r.clue_id for r in rows if r.status == "dismissed"])
    plan, skipped = [], []
    for row in rows:
        if row.assignee == assignee.name:
            skipped.append({"clue_id": row.clue_id, "reason": f"已由 {assignee.name} 承办 / already assigned"})
        elif not can_see(assignee, row):
            skipped.append({"clue_id": row.clue_id, "reason": f"{assignee.name} 无权查看此线索 / assignee cannot see it"})
        else:
            plan.append((row, {"status": row.status, "reason": reasons.get(row.clue_id), "note": note,
                               "assignee": assignee.name, "version": row.version}))
    return plan, skipped, {"assignee": assignee.name}


def _plan_duplicate(conn: Connection, user: User, body: dict, rows) -> tuple[list[tuple], list[dict], dict]:
    kept_id = body.get("duplicate_of")
    if not isinstance(kept_id, str) or not kept_id:
        raise Refused(422, "须指明保留的线索 / duplicate_of: the clue kept")
    try:
        kept = clue_row(conn, user, kept_id)
    except Refused:
        raise Refused(422, f"没有保留的线索 / duplicate_of: no such clue {kept_id}") from None
    extra = _note(body)
    note = f"重复线索，保留线索 {kept.clue_id} / duplicate of {kept.clue_id}" + (f"；{extra}" if extra else "")
    plan, skipped = [], []
    for row in rows:
        if row.clue_id == kept.clue_id:
            skipped.append({"clue_id": row.clue_id, "reason": "保留的线索本身 / the clue kept"})
        elif "dismissed" not in MOVES[row.status]:
            skipped.append({"clue_id": row.clue_id, "reason": f"不能从{STATUS_LABELS[row.status]}改为不属实 / "
                                                              f"cannot move {row.status} → dismissed"})
        else:
            plan.append((row, {"status": "dismissed", "reason": "duplicate", "note": note, "version": row.version}))
    return plan, skipped, {"duplicate_of": kept.clue_id}


def bulk(conn: Connection, user: User, body: dict) -> dict:
    """Run one bulk action; returns ``{"action", "done": [{clue_id, version}], "skipped": [{clue_id, reason}]}``."""
    if not user.can_decide:
        raise Refused(403, "此角色不能作出决定 / this role cannot decide")
    action = body.get("action")
    if action not in ACTIONS:
        raise Refused(422, "action 须为 assign 或 duplicate / action: assign | duplicate")
    if action == "duplicate" and body.get("clue_ids") is None:
        raise Refused(422, "标记重复须勾选线索 / duplicate needs clue_ids (checked clues)")
    rows, skipped, filters = _selection(conn, user, body)
    plan, refused, details = (_plan_assign(conn, body, rows) if action == "assign"
                              else _plan_duplicate(conn, user, body, rows))
    skipped += refused
    done = []
    for row, decision in plan:
        try:
            done.append({"clue_id": row.clue_id, "version": decide(conn, user, row.clue_id, decision)})
        except Refused as exc:      # raised before anything of this clue is written
            skipped.append({"clue_id": row.clue_id, "reason": exc.message})
    audit(conn, user.name, "bulk", {"action": action, **details, "filters": filters,
                                    "done": len(done), "skipped": len(skipped),
                                    "clue_ids": [d["clue_id"] for d in done][:200]})
    return {"action": action, **details, "done": done, "skipped": skipped}

"""Triage around the queue: each model's recommended share (优先核查), suppressions (暂缓: a subject set
aside for a model until a date), the low-score QC sample, other clues on the same subject, and a clue's
previous and next clue in the queue it was opened from.

The queue's own filters (``recommended``, ``suppressed``) are SQL clauses in :mod:`engine.review.queries`;
this module holds the writes (each role-checked and audited) and the reads the clue page adds. Every read
is limited by :func:`engine.review.queries.visible`.

Example::

    with store.engine.begin() as conn:
        set_recommended(conn, analyst, "prisoner_dibao", 20)      # top 20 % of its open clues: 优先核查
        suppress(conn, prosecutor, clue_id, {"until": "2025-06-30", "reason": "已移送民政局核实"})
"""

from __future__ import annotations

import datetime as dt
import random
import secrets

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from engine.masking import mask_text
from engine.review.queries import (
    Filters,
    Refused,
    active_suppression,
    clue_row,
    effectiveness,
    finite_number,
    low_score_ids,
    mask_subject,
    present,
    queue_where,
    suppressed_clause,
    today,
    visible,
    with_flags,
)
from engine.review.store import audit, clues, model_settings, suppressions, utcnow
from engine.review.users import User

MAX_REASON = 2000
QC_SIZE = 20
QC_MAX = 500
SAME_SUBJECT_LIMIT = 50


# -- the recommended share ------------------------------------------------------------------------------

def recommended_settings(conn: Connection, user: User) -> dict[str, float]:
    """model_id → recommended percent, for the models this user may see."""
    query = sa.select(model_settings.c.model_id, model_settings.c.recommended_percent).where(
        model_settings.c.recommended_percent.is_not(None))
    if user.models is not None:
        query = query.where(model_settings.c.model_id.in_(user.models))
    return dict(conn.execute(query).all())


def _percent(value) -> float | None:
    try:
        percent = finite_number(value)
    except ValueError:
        raise Refused(422, "比例须为 0 至 100 之间的数 / percent must be a number in (0, 100]") from None
    if percent is None:
        return None
    if not 0 < percent <= 100:
        raise Refused(422, "比例须大于 0 且不超过 100 / percent must be in (0, 100]")
    return percent


def set_recommended(conn: Connection, user: User, model_id: str, percent) -> float | None:
    """Set (or clear, with None) the share of the model's open clues marked 优先核查. Only the model's owners:
    analysts and admins who may see the model. Audited as ``recommended_filter``."""
    if not user.can_tune:
        raise Refused(403, "仅分析员与管理员可设置推荐比例 / analysts and admins only")
    if not isinstance(model_id, str) or (user.models is not None and model_id not in user.models):
        raise Refused(404, "没有此模型 / no such model")
    known = conn.execute(sa.select(clues.c.model_id).where(clues.c.model_id == model_id).limit(1)).first()
    if known is None:
        raise Refused(404, "没有此模型 / no such model")
    value = _percent(percent)
    previous = conn.execute(sa.select(model_settings.c.recommended_percent)
                            .where(model_settings.c.model_id == model_id)).first()
    values = {"recommended_percent": value, "updated_by": user.name, "updated_at": utcnow()}
    if previous is None:
        conn.execute(sa.insert(model_settings).values(model_id=model_id, **values))
    else:
        conn.execute(sa.update(model_settings).where(model_settings.c.model_id == model_id).values(**values))
    audit(conn, user.name, "recommended_filter", {"model_id": model_id, "percent": value,
                                                  "previous": previous[0] if previous else None})
    return value


# -- suppressions ---------------------------------------------------------------------------------------

def _date(value) -> dt.date:
    if value in (None, ""):
        raise Refused(422, "缺少暂缓截止日期 / until is required (YYYY-MM-DD)")
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise Refused(422, "日期无效 / until must be YYYY-MM-DD") from None


def _active(conn: Connection, model_id: str, subject_id: str | None):
    if not subject_id:
        return None
    return conn.execute(sa.select(suppressions).where(
        suppressions.c.model_id == model_id, suppressions.c.subject_id == subject_id,
        active_suppression(today())).order_by(suppressions.c.until.desc(), suppressions.c.id.desc())).first()


def _present_suppression(row) -> dict:
    return {"id": row.id, "model_id": row.model_id, "until": row.until.isoformat(),
            "reason": mask_text(row.reason), "user": row.user,
            "created_at": row.created_at.isoformat(timespec="seconds")}


def suppression_of(conn: Connection, row) -> dict | None:
    """The active suppression over this clue's model and subject, or None."""
    found = _active(conn, row.model_id, row.subject_id)
    return _present_suppression(found) if found else None


def _check_decider(user: User) -> None:
    if not user.can_decide:
        raise Refused(403, "此角色不能暂缓线索 / this role cannot suppress")


def suppress(conn: Connection, user: User, clue_id: str, body: dict) -> dict:
    """Set the clue's subject aside for its model until ``until`` (today or later), with a reason. Every clue
    of that model on that subject — also those of later runs — leaves the queue until then. An active
    suppression of the same subject is replaced (kept, marked lifted). ``version``, when given, must be the
    clue's current version (409). Audited as ``suppress``."""
    _check_decider(user)
    row = clue_row(conn, user, clue_id)
    version = body.get("version")
    if version is not None and (not isinstance(version, int) or isinstance(version, bool)):
        raise Refused(422, "版本号须为整数 / version must be an integer")
    if version is not None and version != row.version:
        raise Refused(409, f"线索已被他人修改（当前版本 {row.version}）/ the clue changed: version {row.version}")
    if not row.subject_id:
        raise Refused(422, "此线索没有对象证件号，不能暂缓 / the clue has no subject to suppress")
    until = _date(body.get("until"))
    if until < today():
        raise Refused(422, "暂缓截止日期不能早于今天 / until is in the past")
    reason = body.get("reason")
    if not isinstance(reason, str) or not reason.strip() or len(reason) > MAX_REASON:
        raise Refused(422, f"须填写暂缓原因（不超过 {MAX_REASON} 字）/ reason: text of 1–{MAX_REASON} characters")
    now = utcnow()
    current = _active(conn, row.model_id, row.subject_id)
    if current is not None:
        conn.execute(sa.update(suppressions).where(suppressions.c.id == current.id)
                     .values(lifted_at=now, lifted_by=user.name))
    new_id = conn.execute(sa.insert(suppressions).values(
        model_id=row.model_id, subject_id=row.subject_id, until=until, reason=reason.strip(), user=user.name,
        created_at=now).returning(suppressions.c.id)).scalar_one()
    audit(conn, user.name, "suppress", {"id": new_id, "clue_id": clue_id, "model_id": row.model_id,
                                        "subject_id": mask_subject(row.subject_id), "until": until,
                                        "reason": mask_text(reason.strip()),
                                        "replaces": current.id if current is not None else None})
    return suppression_of(conn, row)


def lift(conn: Connection, user: User, clue_id: str) -> int:
    """Lift the active suppression over this clue's model and subject before its date (the row is kept,
    with who lifted it and when). Returns its id; 404 when there is none. Audited as ``suppression_lift``."""
    _check_decider(user)
    row = clue_row(conn, user, clue_id)
    current = _active(conn, row.model_id, row.subject_id)
    if current is None:
        raise Refused(404, "此线索未被暂缓 / the clue is not suppressed")
    conn.execute(sa.update(suppressions).where(suppressions.c.id == current.id, suppressions.c.lifted_at.is_(None))
                 .values(lifted_at=utcnow(), lifted_by=user.name))
    audit(conn, user.name, "suppression_lift", {"id": current.id, "clue_id": clue_id, "model_id": row.model_id,
                                                "until": current.until})
    return current.id


def suppressed_counts(conn: Connection, user: User) -> dict[str, int]:
    """model_id → how many of the clues this user sees are suppressed today."""
    return dict(conn.execute(sa.select(clues.c.model_id, sa.func.count())
                             .where(visible(user), suppressed_clause(today()))
                             .group_by(clues.c.model_id)).all())


# -- the QC sample --------------------------------------------------------------------------------------

def qc_request(params) -> tuple[int, int] | None:
    """``(size, seed)`` when the query parameters ask for the QC sample (``sample=qc``), else None;
    Refused(422) for another sample or a bad size or seed (a missing seed is drawn)."""
    if not params.get("sample"):
        return None
    if params["sample"] != "qc":
        raise Refused(422, "sample 只能为 qc / sample must be qc")
    return qc_size(params.get("size")), qc_seed(params.get("seed"))


def qc_size(value) -> int:
    if value in (None, ""):
        return QC_SIZE
    try:
        size = int(value)
    except (TypeError, ValueError):
        raise Refused(422, "size 须为整数 / size must be an integer") from None
    if not 1 <= size <= QC_MAX:
        raise Refused(422, f"size 须在 1 至 {QC_MAX} 之间 / size must be in 1..{QC_MAX}")
    return size


def qc_seed(value) -> int:
    if value in (None, ""):
        return secrets.randbelow(1_000_000)
    try:
        seed = int(value)
    except (TypeError, ValueError):
        raise Refused(422, "seed 须为整数 / seed must be an integer") from None
    if seed < 0:
        raise Refused(422, "seed 不能为负 / seed must not be negative")
    return seed


def qc_pick(conn: Connection, user: User, f: Filters, size: int, seed: int) -> tuple[int, list[str]]:
    """(the pool's size, the sampled clue ids by score): ``size`` clues drawn with ``random.Random(seed)``
    from the low-score open clues (:func:`engine.review.queries.low_score_ids`) that match the filters."""
    pool = list(conn.execute(sa.select(clues.c.clue_id).where(queue_where(conn, user, f),
                                                              clues.c.clue_id.in_(low_score_ids(today())))
                             .order_by(clues.c.clue_id)).scalars())
    chosen = random.Random(seed).sample(pool, min(size, len(pool)))
    ordered = conn.execute(sa.select(clues.c.clue_id).where(clues.c.clue_id.in_(chosen))
                           .order_by(clues.c.score.desc(), clues.c.clue_id)).scalars().all() if chosen else []
    return len(pool), list(ordered)


def qc_sample(conn: Connection, user: User, f: Filters, size: int, seed: int) -> dict:
    """The QC sample as the queue answers it (``total``: the pool's size), audited as ``qc_sample``."""
    pool, ids = qc_pick(conn, user, f, size, seed)
    rows = {r.clue_id: r for r in conn.execute(sa.select(clues).where(clues.c.clue_id.in_(ids)))} if ids else {}
    items = with_flags(conn, [present(rows[i]) for i in ids])
    details = {"seed": seed, "size": size, "pool": pool, "clue_ids": ids, "model_id": f.model_id}
    if f.q:
        details["q"] = mask_text(f.q)
    audit(conn, user.name, "qc_sample", details)
    return {"sample": "qc", "seed": seed, "size": size, "total": pool, "page": 1, "page_size": size,
            "items": items}


# -- the clue page's neighbours -------------------------------------------------------------------------

def same_subject(conn: Connection, user: User, row) -> list[dict]:
    """Clues of other models on the same subject (the ID before any ``:year`` suffix), that the user may see."""
    if not row.subject_id:
        return []
    base = row.subject_id.split(":")[0]
    found = conn.execute(
        sa.select(clues.c.clue_id, clues.c.model_id, clues.c.rule_id, clues.c.score, clues.c.status,
                  clues.c.lifecycle, clues.c.subject_name, clues.c.period_start, clues.c.period_end)
        .where(visible(user), clues.c.model_id != row.model_id,
               sa.or_(clues.c.subject_id == base, clues.c.subject_id.startswith(base + ":", autoescape=True)))
        .order_by(clues.c.model_id, clues.c.score.desc(), clues.c.clue_id).limit(SAME_SUBJECT_LIMIT)).all()
    return [{"clue_id": r.clue_id, "model_id": r.model_id, "rule_id": r.rule_id, "score": r.score,
             "status": r.status, "lifecycle": r.lifecycle, "subject_name": r.subject_name,
             "period_start": r.period_start.isoformat() if r.period_start else None,
             "period_end": r.period_end.isoformat() if r.period_end else None} for r in found]


def neighbours(conn: Connection, user: User, f: Filters, clue_id: str,
               sample: tuple[int, int] | None = None) -> dict[str, str | None]:
    """The previous and next clue ids around ``clue_id`` in the queue of these filters (by score, then
    clue_id), or in the QC sample of ``(size, seed)``. The clue need not match the filters any more (a
    decision may have moved it out): its neighbours are those around its place."""
    if sample is not None:
        _pool, ids = qc_pick(conn, user, f, *sample)
        if clue_id not in ids:
            return {"prev": None, "next": None}
        at = ids.index(clue_id)
        return {"prev": ids[at - 1] if at > 0 else None, "next": ids[at + 1] if at + 1 < len(ids) else None}
    score = conn.execute(sa.select(clues.c.score).where(clues.c.clue_id == clue_id, visible(user))).scalar()
    if score is None:
        return {"prev": None, "next": None}
    where = queue_where(conn, user, f)
    after = sa.or_(clues.c.score < score, sa.and_(clues.c.score == score, clues.c.clue_id > clue_id))
    before = sa.or_(clues.c.score > score, sa.and_(clues.c.score == score, clues.c.clue_id < clue_id))
    following = conn.execute(sa.select(clues.c.clue_id).where(where, after)
                             .order_by(clues.c.score.desc(), clues.c.clue_id).limit(1)).scalar()
    preceding = conn.execute(sa.select(clues.c.clue_id).where(where, before)
                             .order_by(clues.c.score.asc(), clues.c.clue_id.desc()).limit(1)).scalar()
    return {"prev": preceding, "next": following}


def model_figures(conn: Connection, user: User) -> list[dict]:
    """The effectiveness figures per model, with its recommended percent and its suppressed clues."""
    shares = recommended_settings(conn, user)
    held = suppressed_counts(conn, user)
    return [{**row, "recommended_percent": shares.get(row["model_id"]), "suppressed": held.get(row["model_id"], 0)}
            for row in effectiveness(conn, user)]

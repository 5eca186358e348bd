"""What a user may see and do with clues: the filtered queue, one clue, a decision, the figures.

Everything goes through :func:`visible`, which limits a query to the user's models and counties, and
through :func:`present`, which masks ID numbers for every role (the full values come only from
:func:`unmask`, for supervisors and admins, and that is audited by the caller). SQL is built only with
SQLAlchemy expressions (values are bound parameters, never text).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from engine.masking import mask_id, mask_ids, mask_text
from engine.review.store import (
    audit,
    clue_search,
    clues,
    decision_events,
    model_settings,
    recommendations,
    suppressions,
    utcnow,
)
from engine.review.users import User

STATUSES = ("pending", "investigating", "confirmed", "dismissed")
STATUS_LABELS = {"pending": "待核查", "investigating": "核查中", "confirmed": "属实", "dismissed": "不属实"}
REASONS = ("data_error", "lawful", "already_rectified", "duplicate", "other")
REASON_LABELS = {"data_error": "数据错误", "lawful": "合法合规", "already_rectified": "已整改",
                 "duplicate": "重复线索", "other": "其他"}
LIFECYCLE_LABELS = {"new": "新增", "persisting": "持续", "reopened": "重现", "resolved": "已消失"}
# Where a clue may go from each status (staying, to add a note or assign, is always allowed; a decided
# clue goes back to investigating before it can be decided the other way).
MOVES = {"pending": {"pending", "investigating", "confirmed", "dismissed"},
         "investigating": {"investigating", "pending", "confirmed", "dismissed"},
         "confirmed": {"confirmed", "investigating"},
         "dismissed": {"dismissed", "investigating"}}
ITEM_FIELDS = ("clue_id", "model_id", "rule_id", "rank", "score", "confidence", "subject_type", "subject_id",
               "subject_name", "amount", "period_start", "period_end", "lifecycle", "status", "assignee", "version")
EXTRA_FIELDS = ("county", "changed_since_decision", "recovered_amount", "rectification")
SORTS = {"score", "rank", "amount", "period_start", "period_end", "clue_id", "subject_name", "model_id"}
MAX_PAGE_SIZE = 500
OPEN_STATUSES = ("pending", "investigating")
SUPPRESSED_CHOICES = ("0", "1", "all")   # leave suppressed clues out (default), only them, both
ID_QUERY = re.compile(r"^\d{17}[\dXx]$|^\d{15}$")


class Refused(Exception):
    """A request the rules refuse: ``code`` is the HTTP status (404, 409, 422), ``message`` is for people."""

    def __init__(self, code: int, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class Filters:
    model_id: str | None = None
    rule_id: str | None = None
    lifecycle: str | None = None
    status: str | None = None
    county: str | None = None
    assignee: str | None = None      # a name, or "mine"
    changed: bool | None = None
    rectification: str | None = None   # "failed" (整改未落实) or "rectified"
    q: str | None = None
    min_score: float | None = None
    max_score: float | None = None
    recommended: bool = False          # only the 优先核查 clues (each model's top share of its open clues)
    suppressed: str | None = None      # None/"0": without suppressed clues; "1": only them; "all": both
    sort: str = "-score"
    page: int = 1
    page_size: int = 50


TEXT_FILTERS = ("model_id", "rule_id", "lifecycle", "status", "county", "rectification", "assignee", "q")
FLAGS = {"1": True, "true": True, "yes": True, "on": True, "0": False, "false": False, "no": False, "off": False}


def _bad(name: str) -> Refused:
    return Refused(422, f"参数无效 / invalid parameter {name}")


def _flag(values, name: str) -> bool | None:
    value = values.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    if not isinstance(value, (str, int)) or str(value).lower() not in FLAGS:
        raise _bad(name)
    return FLAGS[str(value).lower()]


def finite_number(value) -> float | None:
    """A form or JSON value as a finite float (None when empty); raises ValueError for anything else
    (a boolean, text, NaN, infinity)."""
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ValueError(value)
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(value)
    return number


def _float(values, name: str) -> float | None:
    try:
        return finite_number(values.get(name))
    except ValueError:
        raise _bad(name) from None


def _int(values, name: str, default: int, low: int, high: int | None = None) -> int:
    value = values.get(name)
    if value is None or value == "":
        return default
    try:
        if isinstance(value, (bool, float)):
            raise ValueError
        number = int(value)
    except (TypeError, ValueError):
        raise _bad(name) from None
    if number < low or (high is not None and number > high):
        raise _bad(name)
    return number


def parse_filters(values, page_size: int = 50) -> Filters:
    """Filters from query parameters or a JSON object (empty values count as absent; ``mine=1`` is
    ``assignee=mine``). Raises Refused(422) on a value of the wrong kind."""
    text = {}
    for name in TEXT_FILTERS:
        value = values.get(name)
        if value is not None and not isinstance(value, str):
            raise _bad(name)
        text[name] = value or None
    if _flag(values, "mine"):
        text["assignee"] = "mine"
    suppressed = values.get("suppressed") or None
    if suppressed is not None and suppressed not in SUPPRESSED_CHOICES:
        raise _bad("suppressed")
    sort = values.get("sort") or "-score"
    if not isinstance(sort, str):
        raise _bad("sort")
    return Filters(**text, changed=_flag(values, "changed"), min_score=_float(values, "min_score"),
                   max_score=_float(values, "max_score"), recommended=bool(_flag(values, "recommended")),
                   suppressed=suppressed, sort=sort, page=_int(values, "page", 1, 1),
                   page_size=_int(values, "page_size", page_size, 1, MAX_PAGE_SIZE))


def visible(user: User):
    """The clause that limits any clue query to what this user may see."""
    conditions = []
    if user.models is not None:
        conditions.append(clues.c.model_id.in_(user.models))
    if user.counties is not None:
        conditions.append(clues.c.county.in_(user.counties))
    return sa.and_(sa.true(), *conditions)


def today() -> dt.date:
    """The day suppressions are compared with (the server's local date)."""
    return dt.date.today()


def active_suppression(on: dt.date):
    return sa.and_(suppressions.c.lifted_at.is_(None), suppressions.c.until >= on)


def suppressed_clause(on: dt.date):
    """True for a clue whose model and subject are under a suppression not yet expired nor lifted."""
    return sa.exists().where(suppressions.c.model_id == clues.c.model_id,
                             suppressions.c.subject_id == clues.c.subject_id, active_suppression(on))


def any_suppression(conn: Connection, on: dt.date) -> bool:
    """Whether any suppression holds on ``on`` (when none does, the queries leave the clause out)."""
    return conn.execute(sa.select(sa.exists().where(active_suppression(on)))).scalar()


def _pool(on: dt.date, open_only: bool, held: bool = True) -> list:
    """The clues a model's ranking runs over: not resolved, not suppressed (``held``: some suppression
    holds), and, with ``open_only``, pending or investigating."""
    pool = [clues.c.lifecycle != "resolved"]
    if held:
        pool.append(~suppressed_clause(on))
    if open_only:
        pool.append(clues.c.status.in_(OPEN_STATUSES))
    return pool


def _ranked(pool: list, models: list[str] | None = None):
    """Each clue of the pool with its place in its model by score (``rn``, 1 = highest; ties by clue_id:
    ``row_number() over (partition by model_id order by score desc, clue_id)``) and the size of the
    model's pool (``n``, a grouped count joined on — one window pass instead of two)."""
    if models is not None:
        pool = [*pool, clues.c.model_id.in_(models)]
    order = (clues.c.score.desc(), clues.c.clue_id)
    places = (sa.select(clues.c.clue_id, clues.c.model_id, clues.c.score,
                        sa.func.row_number().over(partition_by=clues.c.model_id, order_by=order).label("rn"))
              .where(*pool).subquery("places"))
    sizes = (sa.select(clues.c.model_id, sa.func.count().label("n")).where(*pool)
             .group_by(clues.c.model_id).subquery("sizes"))
    return (sa.select(places.c.clue_id, places.c.model_id, places.c.score, places.c.rn, sizes.c.n)
            .join(sizes, sizes.c.model_id == places.c.model_id).subquery("ranked"))


Cut = tuple[float, str]     # (score, clue_id) of a model's last recommended clue


def recommended_cuts(conn: Connection, on: dt.date, models: list[str] | None = None) -> dict[str, Cut]:
    """Per model with a recommended percent p (among ``models``, if given): the last of its open clues
    (pending or investigating, not resolved, not suppressed) within the top k = ceil(n · p / 100) by score,
    then clue_id — the place ``rn`` with ``(rn - 1) · 100 < n · p <= rn · 100``, in exact arithmetic. One
    grouped count for the sizes n, then per tuned model the k-th clue in the order of the index
    ``ix_clues_model_rank``; run once per request; the queue then filters against the cut."""
    query = sa.select(model_settings.c.model_id, model_settings.c.recommended_percent).where(
        model_settings.c.recommended_percent > 0)
    if models is not None:
        query = query.where(model_settings.c.model_id.in_(models))
    tuned = conn.execute(query).all()
    if not tuned:
        return {}
    pool = _pool(on, open_only=True, held=any_suppression(conn, on))
    sizes = dict(conn.execute(sa.select(clues.c.model_id, sa.func.count()).where(
        *pool, clues.c.model_id.in_([m for m, _ in tuned])).group_by(clues.c.model_id)).all())
    cuts = {}
    for model_id, percent in tuned:
        where = [*pool, clues.c.model_id == model_id]
        k = math.ceil(Fraction(sizes.get(model_id, 0)) * Fraction(percent) / 100)
        if k == 0:
            continue
        cut = conn.execute(sa.select(clues.c.score, clues.c.clue_id).where(*where)
                           .order_by(clues.c.score.desc(), clues.c.clue_id).offset(k - 1).limit(1)).one()
        cuts[model_id] = (cut.score, cut.clue_id)
    return cuts


def _at_or_above(cut: Cut):
    """At or above the cut by (score desc, clue_id): written with ``score >= s`` leading, so that each
    model's term is a range of the index on (model_id, score)."""
    score, clue_id = cut
    return sa.and_(clues.c.score >= score, sa.not_(sa.and_(clues.c.score == score, clues.c.clue_id > clue_id)))


def recommended_clause(cuts: dict[str, Cut], on: dt.date, held: bool = True):
    """True for a recommended clue: open, and at or above its model's cut (by score, then clue_id). One
    index range per model (``model_id = m and score >= s``), united, so no scan of the clue rows."""
    if not cuts:
        return sa.false()
    pool = _pool(on, open_only=True, held=held)
    ranges = [sa.select(clues.c.clue_id).where(clues.c.model_id == model_id, _at_or_above(cut), *pool)
              for model_id, cut in cuts.items()]
    return clues.c.clue_id.in_(ranges[0] if len(ranges) == 1 else sa.union_all(*ranges))


def is_recommended(item: dict, cuts: dict[str, Cut]) -> bool:
    """The same test as :func:`recommended_clause` on one presented item (``suppressed_until`` set first)."""
    cut = cuts.get(item["model_id"])
    if cut is None or item["status"] not in OPEN_STATUSES or item["lifecycle"] == "resolved" or item["suppressed_until"]:
        return False
    return item["score"] > cut[0] or (item["score"] == cut[0] and item["clue_id"] <= cut[1])


def low_score_ids(on: dt.date):
    """The QC pool: a model's live clues (not resolved, not suppressed, whatever their status — so that a
    decision does not change the sample of a seed) below its recommended cut (beyond the top
    ceil(n · p / 100)), or — for a model without a cut — in the lowest quartile of their scores (ascending
    place ≤ ceil(n / 4), i.e. ``(n - rn) · 4 < n``)."""
    ranked = _ranked(_pool(on, open_only=False))
    percent = model_settings.c.recommended_percent
    has_cut = sa.and_(percent.is_not(None), percent > 0)
    return (sa.select(ranked.c.clue_id)
            .outerjoin(model_settings, model_settings.c.model_id == ranked.c.model_id)
            .where(sa.case((has_cut, (ranked.c.rn - 1) * 100 >= ranked.c.n * percent),
                           else_=(ranked.c.n - ranked.c.rn) * 4 < ranked.c.n)))


def can_see(user: User, row) -> bool:
    """The same limit as :func:`visible`, on one clue row already read."""
    return ((user.models is None or row.model_id in user.models)
            and (user.counties is None or row.county in user.counties))


def _search(q: str):
    """A full ID number matches whole (the subject's, or one inside the evidence; the answer stays masked);
    anything else is a substring of the subject's name. Both through the indexed ``clue_search`` table."""
    q = q.strip()
    if ID_QUERY.match(q):
        found = sa.and_(clue_search.c.kind == "id", clue_search.c.key == q.upper())
    else:
        found = sa.and_(clue_search.c.kind == "name", clue_search.c.key.contains(q, autoescape=True))
    return clues.c.clue_id.in_(sa.select(clue_search.c.clue_id).where(found))


def queue_where(conn: Connection, user: User, f: Filters, cuts: dict[str, Cut] | None = None):
    """The clause of the queue's filters for this user (reads the recommended cuts and whether any
    suppression holds, so that the common case stays a plain indexed query)."""
    conditions = [visible(user)]
    for name in ("model_id", "rule_id", "lifecycle", "status", "county", "rectification"):
        value = getattr(f, name)
        if value:
            conditions.append(clues.c[name] == value)
    if f.assignee:
        conditions.append(clues.c.assignee == (user.name if f.assignee == "mine" else f.assignee))
    if f.changed is not None:
        conditions.append(clues.c.changed_since_decision == f.changed)
    if f.min_score is not None:
        conditions.append(clues.c.score >= f.min_score)
    if f.max_score is not None:
        conditions.append(clues.c.score <= f.max_score)
    on = today()
    held = any_suppression(conn, on)
    if f.recommended:
        if cuts is None:
            models = [f.model_id] if f.model_id else (list(user.models) if user.models is not None else None)
            cuts = recommended_cuts(conn, on, models)
        conditions.append(recommended_clause(cuts, on, held))
    if f.suppressed == "1":
        conditions.append(suppressed_clause(on) if held else sa.false())
    elif f.suppressed != "all" and held:
        conditions.append(~suppressed_clause(on))
    if f.q and f.q.strip():
        conditions.append(_search(f.q))
    return sa.and_(*conditions)


def _number(value):
    if isinstance(value, Decimal):
        return float(value)
    return value


def mask_subject(value: str | None) -> str | None:
    if value is None:
        return None
    masked = mask_ids(value)
    return masked if masked != value else mask_id(value)


def present(row, full: bool = False) -> dict:
    """A clue row as the API answers it; ID numbers masked unless ``full``."""
    item = {name: _number(getattr(row, name)) for name in (*ITEM_FIELDS, *EXTRA_FIELDS)}
    for name in ("period_start", "period_end"):
        item[name] = item[name].isoformat() if item[name] is not None else None
    item["changed_since_decision"] = bool(item["changed_since_decision"])
    if not full:
        item["subject_id"] = mask_subject(item["subject_id"])
    return item


def _order(f: Filters) -> tuple:
    """The queue's ordering (``sort``: a field, ``-field`` descending), ties broken by clue id."""
    key = f.sort.lstrip("-") if f.sort else "score"
    if key not in SORTS:
        raise Refused(422, f"不支持的排序 / unknown sort {key!r}")
    column = clues.c[key]
    return (column.desc() if (f.sort or "-score").startswith("-") else column.asc()), clues.c.clue_id


def matching(conn: Connection, user: User, f: Filters, cuts: dict[str, Cut] | None = None):
    """The SELECT of every clue row the filters match for this user, in queue order (no paging)."""
    return sa.select(clues).where(queue_where(conn, user, f, cuts)).order_by(*_order(f))


def count_matching(conn: Connection, user: User, f: Filters, cuts: dict[str, Cut] | None = None) -> int:
    where = queue_where(conn, user, f, cuts)
    return conn.execute(sa.select(sa.func.count()).select_from(clues).where(where)).scalar_one()


def list_clues(conn: Connection, user: User, f: Filters) -> dict:
    cuts = recommended_cuts(conn, today()) if f.recommended else None     # once for the filter and the badges
    total = count_matching(conn, user, f, cuts)
    size = max(1, min(f.page_size, MAX_PAGE_SIZE))
    page = max(1, f.page)
    rows = conn.execute(matching(conn, user, f, cuts).limit(size).offset((page - 1) * size)).all()
    return {"total": total, "page": page, "page_size": size, "items": with_flags(conn, [present(r) for r in rows], cuts)}


def with_flags(conn: Connection, items: list[dict], cuts: dict[str, Cut] | None = None) -> list[dict]:
    """Add ``recommended`` (优先核查) and ``suppressed_until`` (an ISO date or None) to each item (``cuts``:
    the recommended cuts when already read)."""
    ids = [i["clue_id"] for i in items]
    on = today()
    if cuts is None:
        cuts = recommended_cuts(conn, on, sorted({i["model_id"] for i in items})) if ids else {}
    until = dict(conn.execute(
        sa.select(clues.c.clue_id, sa.func.max(suppressions.c.until))
        .join(suppressions, sa.and_(suppressions.c.model_id == clues.c.model_id,
                                    suppressions.c.subject_id == clues.c.subject_id))
        .where(clues.c.clue_id.in_(ids), active_suppression(on)).group_by(clues.c.clue_id)).all()) if ids else {}
    for item in items:
        day = until.get(item["clue_id"])
        item["suppressed_until"] = day.isoformat() if day else None
        item["recommended"] = is_recommended(item, cuts)
    return items


def clue_row(conn: Connection, user: User, clue_id: str):
    row = conn.execute(sa.select(clues).where(clues.c.clue_id == clue_id, visible(user))).first()
    if row is None:
        raise Refused(404, "没有此线索 / no such clue")
    return row


def history(conn: Connection, clue_id: str) -> list[dict]:
    rows = conn.execute(sa.select(decision_events).where(decision_events.c.clue_id == clue_id)
                        .order_by(decision_events.c.id)).all()
    return [{"ts": r.ts.isoformat(timespec="seconds"), "user": r.user, "previous_status": r.previous_status,
             "new_status": r.new_status, "reason": r.reason, "note": r.note,
             "recovered_amount": _number(r.recovered_amount), "assignee": r.assignee, "version": r.version}
            for r in rows]


def clue_detail(conn: Connection, user: User, clue_id: str, full: bool = False) -> dict:
    row = clue_row(conn, user, clue_id)
    item = present(row, full)
    evidence_text = row.evidence or "{}"
    item["summary"] = row.summary if full else mask_text(row.summary or "")
    item["legal_basis"] = row.legal_basis
    item["evidence"] = json.loads(evidence_text if full else mask_text(evidence_text))
    item["history"] = history(conn, clue_id)
    return item


def clue_facts(conn: Connection, user: User, clue_ids: list[str]) -> list[dict]:
    """The listed clues this user may see, masked, each with its summary and legal basis (for documents
    such as the 检察建议书 that list many clues), in the order of ``clue_ids``."""
    rows = conn.execute(sa.select(clues).where(clues.c.clue_id.in_(clue_ids), visible(user))).all()
    by_id = {r.clue_id: r for r in rows}
    return [{**present(by_id[c]), "summary": mask_text(by_id[c].summary or ""),
             "legal_basis": by_id[c].legal_basis} for c in clue_ids if c in by_id]


def decide(conn: Connection, user: User, clue_id: str, body: dict) -> int:
    """Record one decision (optimistic: ``version`` must be the clue's current one). Returns the new version.
    Raises Refused(404 | 409 | 422); on 409/422 nothing is written to the clue or its events."""
    row = clue_row(conn, user, clue_id)
    status = body.get("status")
    reason = body.get("reason") or None
    version = body.get("version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise Refused(422, "缺少版本号 / version (an integer) is required")
    if version != row.version:
        raise Refused(409, f"线索已被他人修改（当前版本 {row.version}）/ the clue changed: version {row.version}")
    if status not in STATUSES:
        raise Refused(422, f"未知状态 / unknown status {status!r}")
    if status not in MOVES[row.status]:
        raise Refused(422, f"不能从 {STATUS_LABELS[row.status]} 改为 {STATUS_LABELS[status]} / "
                           f"cannot move {row.status} → {status}")
    if status == "dismissed" and reason not in REASONS:
        raise Refused(422, "不属实须选择理由 / dismissed needs a reason: " + ", ".join(REASONS))
    if status != "dismissed" and reason is not None and reason not in REASONS:
        raise Refused(422, f"未知理由 / unknown reason {reason!r}")
    recovered = body.get("recovered_amount")
    if recovered is not None:
        try:
            recovered = Decimal(str(recovered)).quantize(Decimal("0.01"))
        except ArithmeticError:
            raise Refused(422, "追回金额无效 / recovered_amount is not a number") from None
        if recovered < 0:
            raise Refused(422, "追回金额不能为负 / recovered_amount is negative")
    note = body.get("note") or None
    if note is not None and (not isinstance(note, str) or len(note) > 10000):
        raise Refused(422, "备注无效 / note must be text of at most 10000 characters")
    assignee = body.get("assignee", row.assignee) or None
    values = {"status": status, "assignee": assignee, "version": row.version + 1, "changed_since_decision": False}
    if recovered is not None:
        values["recovered_amount"] = recovered
    done = conn.execute(sa.update(clues).where(clues.c.clue_id == clue_id, clues.c.version == version)
                        .values(**values)).rowcount
    if done != 1:   # another reviewer saved in between
        raise Refused(409, "线索已被他人修改 / the clue changed meanwhile")
    conn.execute(sa.insert(decision_events).values(
        clue_id=clue_id, ts=utcnow(), user=user.name, previous_status=row.status, new_status=status,
        reason=reason, note=note, recovered_amount=recovered, assignee=assignee, version=row.version + 1))
    audit(conn, user.name, "decision", {"clue_id": clue_id, "from": row.status, "to": status, "reason": reason,
                                        "version": row.version + 1})
    return row.version + 1


COUNTS = ("clues", "reviewed", "confirmed", "dismissed", "rectification_failed", "rectified_by_data")


def _count_if(cond):
    return sa.func.sum(sa.case((cond, 1), else_=0))


def _rule_rows(conn: Connection, user: User):
    """Per (model, rule) the user may see: the clue counts, the recovered amount, the 回头看 flags."""
    return conn.execute(sa.select(
        clues.c.model_id, clues.c.rule_id, sa.func.count().label("clues"),
        _count_if(clues.c.status.in_(("confirmed", "dismissed"))).label("reviewed"),
        _count_if(clues.c.status == "confirmed").label("confirmed"),
        _count_if(clues.c.status == "dismissed").label("dismissed"),
        sa.func.coalesce(sa.func.sum(clues.c.recovered_amount), 0).label("recovered_amount"),
        _count_if(clues.c.rectification == "failed").label("rectification_failed"),
        _count_if(clues.c.rectification == "rectified").label("rectified_by_data"),
    ).where(visible(user)).group_by(clues.c.model_id, clues.c.rule_id)
        .order_by(clues.c.model_id, clues.c.rule_id)).all()


def _dismissal_reasons(conn: Connection, user: User) -> dict[tuple[str, str], dict[str, int]]:
    """Per (model, rule): the reasons of the dismissed clues' current decisions."""
    rows = conn.execute(sa.select(clues.c.model_id, clues.c.rule_id, decision_events.c.reason, sa.func.count())
                        .join(decision_events, decision_events.c.clue_id == clues.c.clue_id)
                        .where(visible(user), clues.c.status == "dismissed",
                               decision_events.c.new_status == "dismissed",
                               decision_events.c.version == clues.c.version)
                        .group_by(clues.c.model_id, clues.c.rule_id, decision_events.c.reason)).all()
    out: dict[tuple[str, str], dict[str, int]] = {}
    for model_id, rule_id, reason, n in rows:
        out.setdefault((model_id, rule_id), {})[reason] = n
    return out


def _recommendation_counts(conn: Connection, user: User) -> dict[str, int]:
    """Per model: the recommendations issued (检察建议)."""
    mine = recommendations.c.model_id.in_(user.models) if user.models is not None else sa.true()
    return dict(conn.execute(sa.select(recommendations.c.model_id, sa.func.count())
                             .where(mine).group_by(recommendations.c.model_id)).all())


def _tally(row=None) -> dict:
    """The raw figures of one rule's row (or an empty tally to add rules into)."""
    tally = {name: int(getattr(row, name) or 0) if row is not None else 0 for name in COUNTS}
    tally["recovered_amount"] = Decimal(str(row.recovered_amount or 0)) if row is not None else Decimal(0)
    tally["dismissed_by_reason"] = {}
    return tally


def _add(total: dict, part: dict) -> None:
    for name in (*COUNTS, "recovered_amount"):
        total[name] += part[name]
    for reason, n in part["dismissed_by_reason"].items():
        total["dismissed_by_reason"][reason] = total["dismissed_by_reason"].get(reason, 0) + n


def _figures(t: dict) -> dict:
    """The published figures of a tally: the contract's fields first, then the 回头看 flags."""
    return {"clues": t["clues"], "reviewed": t["reviewed"], "confirmed": t["confirmed"], "dismissed": t["dismissed"],
            "hit_rate": round(t["confirmed"] / t["reviewed"], 4) if t["reviewed"] else None,
            "recovered_amount": float(t["recovered_amount"]), "dismissed_by_reason": t["dismissed_by_reason"],
            "rectification_failed": t["rectification_failed"], "rectified_by_data": t["rectified_by_data"]}


def effectiveness(conn: Connection, user: User) -> list[dict]:
    """Per model (and per rule inside it): clues, reviewed, confirmed, dismissed, 成案率 (``hit_rate``:
    confirmed / reviewed), recovered amount, dismissal reasons, recommendations, 回头看 flags."""
    reasons = _dismissal_reasons(conn, user)
    recs = _recommendation_counts(conn, user)
    totals: dict[str, dict] = {}
    rules: dict[str, list[dict]] = {}
    for row in _rule_rows(conn, user):
        tally = _tally(row)
        tally["dismissed_by_reason"] = dict(reasons.get((row.model_id, row.rule_id), {}))
        _add(totals.setdefault(row.model_id, _tally()), tally)
        rules.setdefault(row.model_id, []).append({"rule_id": row.rule_id, **_figures(tally)})
    out = []
    for model_id, total in totals.items():
        figures = _figures(total)
        flags = {k: figures.pop(k) for k in ("rectification_failed", "rectified_by_data")}
        out.append({"model_id": model_id, **figures, "recommendations": recs.get(model_id, 0), **flags,
                    "rules": rules[model_id]})
    return out


def facets(conn: Connection, user: User) -> dict:
    """The values the queue's filters offer (only what the user may see), from one scan of the narrow
    index ``ix_clues_facets``."""
    combos = conn.execute(sa.select(clues.c.model_id, clues.c.rule_id, clues.c.county).where(visible(user))
                          .distinct()).all()
    return {name: sorted({c[i] for c in combos if c[i] is not None})
            for i, name in enumerate(("model_id", "rule_id", "county"))}

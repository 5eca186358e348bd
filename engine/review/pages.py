"""The server-rendered pages (Chinese, Jinja2 with autoescape): login, the queue, a clue with its evidence
and a decision form, the audit log, the models' figures. The only script is the vendored
``static/keys.js`` (keyboard triage, loaded from the same origin; no inline script): every page works
without it.

HTML forms carry the session's CSRF token as the hidden field ``csrf_token``; the login form carries a
pre-session token bound to a signed cookie.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from engine.report.charts import Bar, bars_svg
from engine.report.timeline import timeline_svg
from engine.review.api import audit_rows, loop_write, record_decision, search_audit, xlsx_response
from engine.review.auth import LOGIN_COOKIE, SESSION_COOKIE, Principal, require
from engine.review.bulk import MAX_BULK
from engine.review.evidence_view import LEVEL_LABELS, comparisons, evidence_tables, plain_values
from engine.review.loop import (
    RECTIFICATION_LABELS,
    TRANSFER_TARGETS,
    create_recommendation,
    create_transfer,
    get_recommendation,
    list_recommendations,
    record_reply,
    transfers_of,
)
from engine.review.queries import (
    LIFECYCLE_LABELS,
    REASON_LABELS,
    STATUS_LABELS,
    STATUSES,
    Filters,
    Refused,
    clue_detail,
    clue_row,
    facets,
    list_clues,
    parse_filters,
)
from engine.review.store import audit
from engine.review.triage import (
    model_figures,
    neighbours,
    qc_request,
    qc_sample,
    qc_seed,
    qc_size,
    same_subject,
    suppression_of,
)
from engine.review.users import check_login, decider_names

TEMPLATES = Path(__file__).resolve().parent / "templates"
env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]),
                  trim_blocks=True, lstrip_blocks=True)
env.globals.update(STATUS_LABELS=STATUS_LABELS, REASON_LABELS=REASON_LABELS, LIFECYCLE_LABELS=LIFECYCLE_LABELS,
                   STATUSES=STATUSES, RECTIFICATION_LABELS=RECTIFICATION_LABELS,
                   TRANSFER_TARGETS=TRANSFER_TARGETS)
router = APIRouter()


def render(name: str, status: int = 200, **context) -> HTMLResponse:
    return HTMLResponse(env.get_template(name).render(**context), status_code=status)


def error_page(request: Request, status: int, message: str) -> HTMLResponse:
    return render("error.html", status, title="错误", message=message, who=None)


def _store(request: Request):
    return request.app.state.store


@router.get("/")
def home() -> Response:
    return RedirectResponse("/queue", status_code=303)


@router.get("/login")
def login_form(request: Request, error: str | None = None, status: int = 200) -> Response:
    cookie, token = request.app.state.sessions.login_token()
    response = render("login.html", status, title="登录", who=None, csrf=token, error=error)
    response.set_cookie(LOGIN_COOKIE, cookie, max_age=3600, httponly=True, samesite="lax", path="/login")
    return response


@router.post("/login")
async def login_submit(request: Request) -> Response:
    form = await request.form()
    sessions = request.app.state.sessions
    if not sessions.login_token_ok(request.cookies.get(LOGIN_COOKIE), form.get("csrf_token")):
        raise HTTPException(403, "表单已过期，请重新登录 / the login form expired (CSRF)")
    user, why = check_login(_store(request), str(form.get("username", "")), str(form.get("password", "")))
    if user is None:
        message = "账户已锁定，请 15 分钟后再试" if why == "locked" else "用户名或密码错误"
        return login_form(request, message, 401)
    cookie, _csrf = sessions.issue(user)
    response = RedirectResponse("/queue", status_code=303)
    sessions.set_cookie(response, cookie)
    response.delete_cookie(LOGIN_COOKIE, path="/login")
    return response


async def _form_principal(request: Request) -> tuple[Principal, dict]:
    form = await request.form()
    return require(request, str(form.get("csrf_token") or "")), {k: str(v) for k, v in form.items()}


@router.post("/logout")
async def logout(request: Request) -> Response:
    who, _form = await _form_principal(request)
    with _store(request).engine.begin() as conn:
        audit(conn, who.user.name, "logout", {})
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def _queue_filters(params) -> Filters:
    """The queue page's filters (50 a page, by score) from its query parameters; 422 on a bad value."""
    try:
        f = parse_filters(params)
    except Refused as exc:
        raise HTTPException(exc.code, exc.message) from None
    f.page_size, f.sort = 50, "-score"
    return f


# The queue's parameters a clue page carries along (for its previous/next links and the way back).
QUEUE_PARAMS = ("model_id", "rule_id", "lifecycle", "status", "county", "rectification", "assignee", "q", "mine",
                "changed", "min_score", "max_score", "recommended", "suppressed", "sample", "size", "seed")


def _sample_of(params) -> tuple[int, int] | None:
    """:func:`triage.qc_request` for a page: a bad parameter is an HTTP 422."""
    try:
        return qc_request(params)
    except Refused as exc:
        raise HTTPException(exc.code, exc.message) from None


def queue_context(params, sample: tuple[int, int] | None = None) -> str:
    """The query string that carries a queue (its filters, or its QC sample with the seed drawn) to a clue."""
    kept = {k: params[k] for k in QUEUE_PARAMS if params.get(k)}
    if sample is not None:
        kept.update(sample="qc", size=str(sample[0]), seed=str(sample[1]))
    return urlencode(kept)


@router.get("/queue")
def queue(request: Request) -> Response:
    who = require(request)
    p = request.query_params
    f = _queue_filters(p)
    sample = _sample_of(p)
    page = f.page
    with _store(request).engine.begin() as conn:
        if sample is not None:
            answer = qc_sample(conn, who.user, f, *sample)
        else:
            answer = list_clues(conn, who.user, f)
            search_audit(conn, who.user.name, f, answer["total"])
        options = facets(conn, who.user)
        deciders = decider_names(conn) if who.user.can_decide else []
    context = queue_context(p, sample)
    pages = 1 if sample else max(1, -(-answer["total"] // answer["page_size"]))
    links = {"prev": f"{context}&page={page - 1}".lstrip("&") if page > 1 and not sample else None,
             "next": f"{context}&page={page + 1}".lstrip("&") if page < pages and not sample else None,
             "export": None if sample else queue_context(p)}
    filters = {k: p[k] for k in QUEUE_PARAMS if p.get(k) and k not in ("sample", "size", "seed")}
    return render("queue.html", title="低分抽样质检" if sample else "线索队列", who=who, answer=answer, params=p,
                  options=options, page=page, pages=pages, links=links, context=context, sample=sample,
                  filters=filters, deciders=deciders, bulk_max=MAX_BULK)


@router.get("/queue.xlsx")
def queue_xlsx(request: Request) -> Response:
    """The queue page's filtered clues (every page, up to the cap) as a workbook; audited as ``export``."""
    return xlsx_response(request, require(request), _queue_filters(request.query_params))


def _show(value) -> str:
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


env.filters["show"] = _show


def _neighbours(conn, who: Principal, clue_id: str, params) -> dict[str, str | None]:
    """The previous and next clue of the queue the page was opened from (none when its parameters are bad)."""
    try:
        f = parse_filters(params)
        sample = None
        if params.get("sample") == "qc":
            sample = (qc_size(params.get("size")), qc_seed(params.get("seed") or 0))
    except Refused:
        return {"prev": None, "next": None}
    f.sort = "-score"
    return neighbours(conn, who.user, f, clue_id, sample)


def _clue_page(request: Request, who: Principal, clue_id: str, full: bool = False, status: int = 200,
               error: str | None = None, attempt: dict | None = None) -> HTMLResponse:
    """The clue page; ``attempt``: what the user tried to save (kept in the form after a refusal)."""
    params = request.query_params
    with _store(request).engine.begin() as conn:
        item = clue_detail(conn, who.user, clue_id, full=full)
        row = clue_row(conn, who.user, clue_id)
        recs = list_recommendations(conn, who.user, clue_id)
        moved = transfers_of(conn, clue_id)
        held = suppression_of(conn, row)
        others = same_subject(conn, who.user, row)
        near = _neighbours(conn, who, clue_id, params)
        audit(conn, who.user.name, "unmask" if full else "view", {"clue_id": clue_id})
    evidence = item["evidence"] if isinstance(item["evidence"], dict) else {}
    # timeline_svg escapes every text it draws (and draws no ID number): the one place markup is trusted
    timeline = Markup(timeline_svg(evidence))  # noqa: S704
    context = queue_context(params)
    return render("clue.html", status, title=f"线索 {clue_id}", who=who, item=item, evidence=evidence,
                  timeline=timeline, recs=recs, transfers=moved, today=dt.date.today().isoformat(),
                  tables=evidence_tables(evidence), values=plain_values(evidence.get("values") or {}),
                  comparisons=comparisons(evidence.get("values") or {}), level_labels=LEVEL_LABELS,
                  score=evidence.get("score") or {}, full=full, error=error, reasons=REASON_LABELS,
                  attempt=attempt, conflict=status == 409, saved=item["history"][-1] if attempt and item["history"] else None,
                  suppression=held, same_subject=others, near=near, context=context,
                  suffix=f"?{context}" if context else "")


@router.get("/clues/{clue_id}")
def clue_page(request: Request, clue_id: str) -> Response:
    who = require(request)
    try:
        return _clue_page(request, who, clue_id)
    except Refused as exc:
        raise HTTPException(exc.code, exc.message) from None


@router.post("/clues/{clue_id}/unmask")
async def clue_unmask(request: Request, clue_id: str) -> Response:
    who, _form = await _form_principal(request)
    if not who.user.can_unmask:
        raise HTTPException(403, "无权查看完整身份证号")
    try:
        return _clue_page(request, who, clue_id, full=True)
    except Refused as exc:
        raise HTTPException(exc.code, exc.message) from None


@router.post("/clues/{clue_id}/decide")
async def clue_decide(request: Request, clue_id: str) -> Response:
    who, form = await _form_principal(request)
    body: dict = {"status": form.get("status"), "reason": form.get("reason") or None,
                  "note": form.get("note") or None, "recovered_amount": form.get("recovered_amount") or None}
    if form.get("assignee_me"):
        body["assignee"] = who.user.name
    try:
        body["version"] = int(form.get("version", ""))
    except ValueError:
        body["version"] = None
    try:
        record_decision(request, who, clue_id, body)
    except Refused as exc:
        if exc.code == 404:
            raise HTTPException(404, exc.message) from None
        if exc.code == 403:
            raise HTTPException(403, exc.message) from None
        message = ("保存失败：此线索已被他人修改。下方并列显示当前已保存的决定与您提交的内容；"
                   "您的内容仍在表单中，核对后可重新提交。" if exc.code == 409 else exc.message)
        attempt = {**body, "assignee_me": bool(form.get("assignee_me"))}
        return _clue_page(request, who, clue_id, status=exc.code, error=message, attempt=attempt)
    context = queue_context(request.query_params)
    return RedirectResponse(f"/clues/{clue_id}" + (f"?{context}" if context else ""), status_code=303)


@router.get("/audit")
def audit_page(request: Request) -> Response:
    who = require(request)
    if not who.user.can_audit:
        raise HTTPException(403, "仅审计员与管理员可查看审计日志")
    p = request.query_params
    try:
        page = max(1, int(p.get("page") or 1))
    except ValueError:
        page = 1
    with _store(request).engine.connect() as conn:
        rows = audit_rows(conn, p.get("action") or None, p.get("user") or None, 100, (page - 1) * 100)
    return render("audit.html", title="审计日志", who=who, rows=rows, params=p, page=page)


def model_chart(figures: dict, scale: int) -> Markup:
    """A model's bars: clues, reviewed, confirmed against ``scale`` (the most clues of any model shown, so
    the charts compare), and 成案率 against 100%. bars_svg escapes every text it draws."""
    def count(label: str, name: str, fill: str) -> Bar:
        return Bar(label, figures[name], scale, str(figures[name]), name, fill)

    rate = figures["hit_rate"]
    bars = [count("线索", "clues", "#9e9e9e"), count("已审查", "reviewed", "#3b7dbf"),
            count("属实", "confirmed", "#7a1c1c"),
            Bar("成案率", rate or 0.0, 1.0, f"{rate * 100:.1f}%" if rate is not None else "—", "hit_rate", "#2e7d32")]
    return Markup(bars_svg(bars, figures["model_id"]))  # noqa: S704


@router.get("/models")
def models_page(request: Request) -> Response:
    who = require(request)
    return models_view(request, who)


def models_view(request: Request, who: Principal, status: int = 200, error: str | None = None) -> HTMLResponse:
    with _store(request).engine.connect() as conn:
        rows = model_figures(conn, who.user)
    scale = max((r["clues"] for r in rows), default=0)
    charts = {r["model_id"]: model_chart(r, scale) for r in rows}
    return render("models.html", status, title="模型成效", who=who, rows=rows, charts=charts, error=error)


def _refused_page(exc: Refused):
    raise HTTPException(exc.code, exc.message) from None


@router.post("/clues/{clue_id}/transfer")
async def clue_transfer(request: Request, clue_id: str) -> Response:
    who, form = await _form_principal(request)
    body = {"to": form.get("to"), "case_number": form.get("case_number"),
            "transferred_on": form.get("transferred_on"), "note": form.get("note") or None}
    try:
        loop_write(request, who, "transfer", lambda conn: create_transfer(conn, who.user, clue_id, body))
    except Refused as exc:
        if exc.code in (403, 404):
            _refused_page(exc)
        return _clue_page(request, who, clue_id, status=exc.code, error=exc.message)
    return RedirectResponse(f"/clues/{clue_id}", status_code=303)


def _recs_page(request: Request, who: Principal, status: int = 200, error: str | None = None,
               chosen: list[str] | None = None) -> HTMLResponse:
    with _store(request).engine.connect() as conn:
        recs = list_recommendations(conn, who.user)
        confirmed = list_clues(conn, who.user, Filters(status="confirmed", suppressed="all",
                                                        page_size=500))["items"]
    return render("recommendations.html", status, title="检察建议", who=who, recs=recs, confirmed=confirmed,
                  chosen=set(chosen or []), error=error, today=dt.date.today().isoformat())


@router.get("/recommendations")
def recommendations_page(request: Request) -> Response:
    who = require(request)
    return _recs_page(request, who, chosen=request.query_params.getlist("clue_id"))


@router.post("/recommendations")
async def recommendations_submit(request: Request) -> Response:
    form = await request.form()
    who = require(request, str(form.get("csrf_token") or ""))
    clue_ids = [str(v) for v in form.getlist("clue_id")]
    body = {"clue_ids": clue_ids, "agency": str(form.get("agency") or ""), "issued_on": form.get("issued_on"),
            "deadline": form.get("deadline") or None, "note": str(form.get("note") or "") or None}
    try:
        rec_id = loop_write(request, who, "recommendation", lambda conn: create_recommendation(conn, who.user, body))
    except Refused as exc:
        if exc.code == 403:
            _refused_page(exc)
        return _recs_page(request, who, exc.code, exc.message, clue_ids)
    return RedirectResponse(f"/recommendations/{rec_id}", status_code=303)


def _rec_page(request: Request, who: Principal, rec_id: int, status: int = 200, error: str | None = None):
    try:
        with _store(request).engine.connect() as conn:
            rec = get_recommendation(conn, who.user, rec_id)
    except Refused as exc:
        _refused_page(exc)
    return render("recommendation.html", status, title=f"检察建议 {rec_id}", who=who, rec=rec, error=error,
                  today=dt.date.today().isoformat())


@router.get("/recommendations/{rec_id}")
def recommendation_page(request: Request, rec_id: int) -> Response:
    return _rec_page(request, require(request), rec_id)


@router.post("/recommendations/{rec_id}/reply")
async def recommendation_reply(request: Request, rec_id: int) -> Response:
    who, form = await _form_principal(request)
    body = {"replied_on": form.get("replied_on"), "text": form.get("text")}
    try:
        loop_write(request, who, "rectification_reply", lambda conn: record_reply(conn, who.user, rec_id, body))
    except Refused as exc:
        if exc.code in (403, 404):
            _refused_page(exc)
        return _rec_page(request, who, rec_id, exc.code, exc.message)
    return RedirectResponse(f"/recommendations/{rec_id}", status_code=303)

"""The JSON API under ``/api/v1`` (spec/CONTRACT.md → Review service)."""

from __future__ import annotations

import json
from typing import Annotated

import sqlalchemy as sa
from fastapi import APIRouter, Body, Depends, HTTPException, Query, Request
from fastapi.responses import JSONResponse, Response

from engine.masking import mask_text
from engine.review.auth import Principal, api_principal
from engine.review.bulk import bulk
from engine.review.exports import MEDIA_TYPE, export_queue, filter_summary
from engine.review.loop import (
    create_recommendation,
    create_transfer,
    get_recommendation,
    list_recommendations,
    record_reply,
    transfers_of,
)
from engine.review.queries import (
    Filters,
    Refused,
    clue_detail,
    clue_row,
    decide,
    list_clues,
    parse_filters,
)
from engine.review.store import audit, audit_log, utcnow
from engine.review.triage import (
    lift,
    model_figures,
    qc_request,
    qc_sample,
    same_subject,
    set_recommended,
    suppress,
    suppression_of,
)
from engine.review.users import check_login

router = APIRouter(prefix="/api/v1")
Who = Annotated[Principal, Depends(api_principal)]


def _store(request: Request):
    return request.app.state.store


def refused(exc: Refused) -> JSONResponse:
    return JSONResponse({"detail": exc.message}, status_code=exc.code)


@router.get("/health")
def health(request: Request) -> dict:
    with _store(request).engine.connect() as conn:
        conn.execute(sa.select(1))
    return {"status": "ok"}


@router.post("/session")
def login(request: Request, body: Annotated[dict, Body()]):
    username, password = body.get("username"), body.get("password")
    if not isinstance(username, str) or not isinstance(password, str):
        return JSONResponse({"detail": "需要 username 与 password / username and password required"}, status_code=422)
    user, why = check_login(_store(request), username, password)
    if user is None:
        message = "账户已锁定，请 15 分钟后再试 / account locked" if why == "locked" else "用户名或密码错误 / wrong credentials"
        return JSONResponse({"detail": message}, status_code=401)
    sessions = request.app.state.sessions
    cookie, csrf = sessions.issue(user)
    response = JSONResponse({"csrf_token": csrf, "user": user.name, "role": user.role})
    sessions.set_cookie(response, cookie)
    return response


@router.delete("/session")
def logout(request: Request, who: Who):
    with _store(request).engine.begin() as conn:
        audit(conn, who.user.name, "logout", {})
    response = JSONResponse({"status": "ok"})
    response.delete_cookie("lsm_session", path="/")
    return response


@router.get("/me")
def me(who: Who) -> dict:
    u = who.user
    return {"name": u.name, "role": u.role, "models": u.models, "counties": u.counties}


def search_audit(conn, user: str, f: Filters, total: int) -> None:
    """Searches are audited with the query masked (an ID number typed in is never stored in full)."""
    if f.q:
        audit(conn, user, "search", {"q": mask_text(f.q), "total": total})


@router.get("/clues")
def clues_list(request: Request, who: Who):
    """The queue: filters as query parameters (spec/CONTRACT.md, plus ``max_score``, ``recommended=1``,
    ``suppressed=0|1|all``); ``sample=qc&size=N&seed=S``: a QC sample of low-score clues instead."""
    p = request.query_params
    try:
        f = parse_filters(p)
        sample = qc_request(p)
        if sample is not None:
            with _store(request).engine.begin() as conn:
                return qc_sample(conn, who.user, f, *sample)
        with _store(request).engine.begin() as conn:
            answer = list_clues(conn, who.user, f)
            search_audit(conn, who.user.name, f, answer["total"])
    except Refused as exc:
        return refused(exc)
    return answer


def xlsx_response(request: Request, who: Principal, f: Filters) -> Response:
    """The filtered queue as a workbook (all matching rows up to the cap), audited as ``export``.
    Raises Refused(422) for an unknown sort."""
    with _store(request).engine.begin() as conn:
        book = export_queue(conn, who.user, f)
        audit(conn, who.user.name, "export", {"format": "xlsx", "filters": filter_summary(f), "rows": book.rows,
                                              "total": book.total, "truncated": book.truncated})
    stamp = utcnow().strftime("%Y%m%d-%H%M%S")
    return Response(book.content, media_type=MEDIA_TYPE, headers={
        "Content-Disposition": f'attachment; filename="clues-{stamp}.xlsx"',
        "X-Export-Rows": str(book.rows), "X-Export-Truncated": "1" if book.truncated else "0"})


@router.get("/clues.xlsx")
def clues_xlsx(request: Request, who: Who):
    """The filtered queue as a workbook: the same query parameters as ``GET /clues``."""
    try:
        return xlsx_response(request, who, parse_filters(request.query_params))
    except Refused as exc:
        return refused(exc)


@router.get("/clues/{clue_id}")
def clue_get(request: Request, who: Who, clue_id: str):
    try:
        with _store(request).engine.begin() as conn:
            item = clue_detail(conn, who.user, clue_id)
            row = clue_row(conn, who.user, clue_id)
            item["suppression"] = suppression_of(conn, row)
            item["same_subject"] = same_subject(conn, who.user, row)
            item["transfers"] = transfers_of(conn, clue_id)
            item["recommendations"] = [r["id"] for r in list_recommendations(conn, who.user, clue_id)]
            audit(conn, who.user.name, "view", {"clue_id": clue_id})
    except Refused as exc:
        return refused(exc)
    return item


@router.post("/clues/{clue_id}/unmask")
def clue_unmask(request: Request, who: Who, clue_id: str):
    if not who.user.can_unmask:
        with _store(request).engine.begin() as conn:
            audit(conn, who.user.name, "unmask_refused", {"clue_id": clue_id})
        raise HTTPException(403, "无权查看完整身份证号 / only supervisors and admins may unmask")
    try:
        with _store(request).engine.begin() as conn:
            item = clue_detail(conn, who.user, clue_id, full=True)
            audit(conn, who.user.name, "unmask", {"clue_id": clue_id})
    except Refused as exc:
        return refused(exc)
    return {"clue_id": clue_id, "subject_id": item["subject_id"], "summary": item["summary"],
            "evidence": item["evidence"]}


def record_decision(request: Request, who: Principal, clue_id: str, body: dict) -> int:
    """Decide, or raise Refused; a refused attempt is audited too (in its own transaction)."""
    if not who.user.can_decide:
        raise Refused(403, "此角色不能作出决定 / this role cannot decide")
    store = _store(request)
    try:
        with store.engine.begin() as conn:
            return decide(conn, who.user, clue_id, body)
    except Refused as exc:
        if exc.code != 404:
            with store.engine.begin() as conn:
                audit(conn, who.user.name, "decision_refused", {
                    "clue_id": clue_id, "code": exc.code, "status": str(body.get("status"))[:20],
                    "version": body.get("version") if isinstance(body.get("version"), int) else None})
        raise


@router.post("/clues/{clue_id}/decisions")
def clue_decide(request: Request, who: Who, clue_id: str, body: Annotated[dict, Body()]):
    try:
        version = record_decision(request, who, clue_id, body)
    except Refused as exc:
        return refused(exc)
    return {"version": version}


def audit_rows(conn, action: str | None = None, user: str | None = None, limit: int = 200,
               offset: int = 0) -> list[dict]:
    query = sa.select(audit_log).order_by(audit_log.c.id.desc()).limit(limit).offset(offset)
    if action:
        query = query.where(audit_log.c.action == action)
    if user:
        query = query.where(audit_log.c.user == user)
    return [{"id": r.id, "ts": r.ts.isoformat(timespec="seconds"), "user": r.user, "action": r.action,
             "details": json.loads(r.details or "{}")} for r in conn.execute(query)]


@router.get("/audit")
def audit_list(request: Request, who: Who, action: str | None = None, user: str | None = None,
               limit: Annotated[int, Query(ge=1, le=5000)] = 200, offset: Annotated[int, Query(ge=0)] = 0):
    if not who.user.can_audit:
        raise HTTPException(403, "仅审计员与管理员可查看审计日志 / auditors and admins only")
    with _store(request).engine.connect() as conn:
        return audit_rows(conn, action, user, limit, offset)


@router.get("/models/effectiveness")
def models_effectiveness(request: Request, who: Who):
    with _store(request).engine.connect() as conn:
        return model_figures(conn, who.user)


@router.post("/models/{model_id}/recommended")
def model_recommended(request: Request, who: Who, model_id: str, body: Annotated[dict, Body()]):
    """``{"percent": 20}`` (or null to clear): the share of the model's open clues marked 优先核查."""
    try:
        percent = loop_write(request, who, "recommended_filter",
                             lambda conn: set_recommended(conn, who.user, model_id, body.get("percent")))
    except Refused as exc:
        return refused(exc)
    return {"model_id": model_id, "percent": percent}


@router.post("/clues/bulk")
def clues_bulk(request: Request, who: Who, body: Annotated[dict, Body()]):
    """``{"filters": {...} | "clue_ids": [...], "action": "assign" | "duplicate", "assignee"?, "duplicate_of"?,
    "note"?}`` → ``{"action", "done": [{clue_id, version}], "skipped": [{clue_id, reason}]}``."""
    try:
        return loop_write(request, who, "bulk", lambda conn: bulk(conn, who.user, body))
    except Refused as exc:
        return refused(exc)


@router.post("/clues/{clue_id}/suppress")
def clue_suppress(request: Request, who: Who, clue_id: str, body: Annotated[dict, Body()]):
    """``{"until", "reason", "version"?}``: set the clue's subject aside for its model until the date."""
    try:
        return loop_write(request, who, "suppress", lambda conn: suppress(conn, who.user, clue_id, body))
    except Refused as exc:
        return refused(exc)


@router.delete("/clues/{clue_id}/suppress")
def clue_unsuppress(request: Request, who: Who, clue_id: str):
    """Lift the clue's active suppression early."""
    try:
        lifted = loop_write(request, who, "suppression_lift", lambda conn: lift(conn, who.user, clue_id))
    except Refused as exc:
        return refused(exc)
    return {"lifted": lifted}


def loop_write(request: Request, who: Principal, action: str, fn):
    """Run one loop write in a transaction; a refusal (other than 404) is audited as ``<action>_refused``."""
    store = _store(request)
    try:
        with store.engine.begin() as conn:
            return fn(conn)
    except Refused as exc:
        if exc.code != 404:
            with store.engine.begin() as conn:
                audit(conn, who.user.name, f"{action}_refused", {"code": exc.code})
        raise


@router.get("/recommendations")
def recommendations_list(request: Request, who: Who, clue_id: str | None = None):
    with _store(request).engine.connect() as conn:
        return list_recommendations(conn, who.user, clue_id)


@router.post("/recommendations")
def recommendations_create(request: Request, who: Who, body: Annotated[dict, Body()]):
    try:
        rec_id = loop_write(request, who, "recommendation", lambda conn: create_recommendation(conn, who.user, body))
        with _store(request).engine.connect() as conn:
            return JSONResponse(get_recommendation(conn, who.user, rec_id), status_code=201)
    except Refused as exc:
        return refused(exc)


@router.get("/recommendations/{rec_id}")
def recommendations_get(request: Request, who: Who, rec_id: int):
    try:
        with _store(request).engine.connect() as conn:
            return get_recommendation(conn, who.user, rec_id)
    except Refused as exc:
        return refused(exc)


@router.post("/recommendations/{rec_id}/reply")
def recommendations_reply(request: Request, who: Who, rec_id: int, body: Annotated[dict, Body()]):
    try:
        loop_write(request, who, "rectification_reply", lambda conn: record_reply(conn, who.user, rec_id, body))
        with _store(request).engine.connect() as conn:
            return get_recommendation(conn, who.user, rec_id)
    except Refused as exc:
        return refused(exc)


@router.post("/clues/{clue_id}/transfers")
def clue_transfer(request: Request, who: Who, clue_id: str, body: Annotated[dict, Body()]):
    try:
        transfer_id = loop_write(request, who, "transfer", lambda conn: create_transfer(conn, who.user, clue_id, body))
    except Refused as exc:
        return refused(exc)
    return JSONResponse({"id": transfer_id}, status_code=201)

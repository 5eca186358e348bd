"""The triage forms: suppress and lift on the clue page, bulk actions on the queue, the recommended
share on /models. Each POST carries the session's CSRF token (hidden ``csrf_token``), is role-checked by
the functions it calls and audited (a refusal too, as ``<action>_refused``)."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from engine.review.api import loop_write
from engine.review.bulk import bulk
from engine.review.pages import _clue_page, _form_principal, models_view, queue_context, render
from engine.review.queries import Refused
from engine.review.triage import lift, set_recommended, suppress

router = APIRouter()


def _back_to_clue(request: Request, clue_id: str) -> Response:
    context = queue_context(request.query_params)
    return RedirectResponse(f"/clues/{clue_id}" + (f"?{context}" if context else ""), status_code=303)


@router.post("/clues/{clue_id}/suppress")
async def clue_suppress(request: Request, clue_id: str) -> Response:
    who, form = await _form_principal(request)
    body: dict = {"until": form.get("until"), "reason": form.get("reason")}
    if form.get("version"):
        try:
            body["version"] = int(form["version"])
        except ValueError:
            body["version"] = form["version"]
    try:
        loop_write(request, who, "suppress", lambda conn: suppress(conn, who.user, clue_id, body))
    except Refused as exc:
        if exc.code in (403, 404):
            raise HTTPException(exc.code, exc.message) from None
        return _clue_page(request, who, clue_id, status=exc.code, error=exc.message)
    return _back_to_clue(request, clue_id)


@router.post("/clues/{clue_id}/unsuppress")
async def clue_unsuppress(request: Request, clue_id: str) -> Response:
    who, _form = await _form_principal(request)
    try:
        loop_write(request, who, "suppression_lift", lambda conn: lift(conn, who.user, clue_id))
    except Refused as exc:
        raise HTTPException(exc.code, exc.message) from None
    return _back_to_clue(request, clue_id)


@router.post("/queue/bulk")
async def queue_bulk(request: Request) -> Response:
    form = await request.form()
    who, _ = await _form_principal(request)
    filters = {k.removeprefix("filter."): str(v) for k, v in form.items() if k.startswith("filter.")}
    body: dict = {"action": form.get("action"), "note": str(form.get("note") or "") or None}
    if form.get("scope") == "all":
        body["filters"] = filters
    else:
        body["clue_ids"] = [str(v) for v in form.getlist("clue_id")]
    if body["action"] == "assign":
        body["assignee"] = str(form.get("assignee") or "")
    elif body["action"] == "duplicate":
        body["duplicate_of"] = str(form.get("duplicate_of") or "").strip()
    back = "/queue" + (f"?{urlencode(filters)}" if filters else "")
    try:
        result = loop_write(request, who, "bulk", lambda conn: bulk(conn, who.user, body))
    except Refused as exc:
        if exc.code == 403:
            raise HTTPException(403, exc.message) from None
        return render("bulk.html", exc.code, title="批量处理", who=who, result=None, error=exc.message, back=back)
    return render("bulk.html", title="批量处理", who=who, result=result, error=None, back=back)


@router.post("/models/{model_id}/recommended")
async def model_recommended(request: Request, model_id: str) -> Response:
    who, form = await _form_principal(request)
    percent = form.get("percent") or None
    try:
        loop_write(request, who, "recommended_filter", lambda conn: set_recommended(conn, who.user, model_id, percent))
    except Refused as exc:
        if exc.code in (403, 404):
            raise HTTPException(exc.code, exc.message) from None
        return models_view(request, who, exc.code, exc.message)
    return RedirectResponse("/models", status_code=303)

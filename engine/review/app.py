"""``create_app(store_url, secret)``: the review service as one FastAPI application.

Every answer carries the security headers (CSP ``default-src 'self'`` — no inline script or style —,
X-Frame-Options DENY, nosniff, no referrer) and, except the static files, ``Cache-Control: no-store``
(pages and API answers hold personal data).
"""

from __future__ import annotations

import mimetypes
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from engine.review import api, documents, pages, triage_pages
from engine.review.auth import Sessions
from engine.review.store import open_store

STATIC = Path(__file__).resolve().parent / "static"
# keys.js must be served as JavaScript whatever the host's mime.types says (nosniff refuses it otherwise)
mimetypes.add_type("text/javascript", ".js")
HEADERS = {
    "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def create_app(store_url: str, secret: str, secure_cookies: bool = False) -> FastAPI:
    store = open_store(store_url)

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        yield
        store.dispose()

    app = FastAPI(title="lsm 审查服务 / review service", docs_url=None, redoc_url=None, openapi_url=None,
                  lifespan=lifespan)
    app.state.store = store
    app.state.sessions = Sessions(secret, secure_cookies)

    @app.middleware("http")
    async def security_headers(request: Request, call_next):
        response = await call_next(request)
        for name, value in HEADERS.items():
            response.headers[name] = value
        if not request.url.path.startswith("/static/"):
            response.headers["Cache-Control"] = "no-store"
        return response

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException):
        if not request.url.path.startswith("/api/") and exc.status_code == 401:
            return RedirectResponse("/login", status_code=303)
        if not request.url.path.startswith("/api/"):
            return pages.error_page(request, exc.status_code, str(exc.detail))
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError):
        return JSONResponse({"detail": "请求参数无效 / invalid request", "errors": jsonable(exc.errors())},
                            status_code=422)

    app.include_router(api.router)
    app.include_router(pages.router)
    app.include_router(documents.router)
    app.include_router(triage_pages.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    return app


def jsonable(errors) -> list[dict]:
    return [{"loc": [str(p) for p in e.get("loc", ())], "msg": str(e.get("msg", ""))} for e in errors]

"""Sessions, API tokens and CSRF for the review service.

A session is a cookie signed with itsdangerous (``lsm_session``: HttpOnly, SameSite=Lax, 8 hours) that
holds the user's id and a random session id; the session's CSRF token is an HMAC of that session id
under the server's secret, so it needs no server-side state and changes with every login. Every
POST/PUT/PATCH/DELETE authenticated by the cookie must carry it — as header ``X-CSRF-Token`` (API) or
as the hidden form field ``csrf_token`` (HTML forms). Requests with ``Authorization: Bearer TOKEN``
need none (a browser never sends that header by itself). The user is loaded from the store on every
request, so disabling a user ends their sessions at once.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from fastapi import HTTPException, Request
from itsdangerous import BadSignature, URLSafeTimedSerializer

from engine.review.store import Store
from engine.review.users import User, user_by_id, user_for_token

SESSION_COOKIE = "lsm_session"
LOGIN_COOKIE = "lsm_login"          # the pre-session CSRF token of the login form
SESSION_SECONDS = 8 * 3600
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


@dataclass(frozen=True)
class Principal:
    user: User
    by_cookie: bool
    csrf: str | None      # the session's CSRF token (None for a bearer token)


class Sessions:
    def __init__(self, secret: str, secure_cookies: bool = False):
        if not secret or len(secret) < 16:
            raise ValueError("the session secret needs at least 16 characters")
        self.secret = secret.encode()
        self.secure = secure_cookies
        self.serializer = URLSafeTimedSerializer(secret, salt="lsm-review-session")
        self.login_serializer = URLSafeTimedSerializer(secret, salt="lsm-review-login")

    def csrf_for(self, sid: str) -> str:
        return hmac.new(self.secret, f"csrf:{sid}".encode(), hashlib.sha256).hexdigest()

    def issue(self, user: User) -> tuple[str, str]:
        """(cookie value, CSRF token) of a new session."""
        sid = secrets.token_urlsafe(24)
        return self.serializer.dumps({"uid": user.id, "sid": sid}), self.csrf_for(sid)

    def read(self, cookie: str) -> tuple[int, str] | None:
        try:
            data = self.serializer.loads(cookie, max_age=SESSION_SECONDS)
        except BadSignature:     # also SignatureExpired
            return None
        if not isinstance(data, dict) or not isinstance(data.get("uid"), int) or not isinstance(data.get("sid"), str):
            return None
        return data["uid"], data["sid"]

    def set_cookie(self, response, value: str) -> None:
        response.set_cookie(SESSION_COOKIE, value, max_age=SESSION_SECONDS, httponly=True, samesite="lax",
                            secure=self.secure, path="/")

    def login_token(self) -> tuple[str, str]:
        """(cookie value, form token) for the login form, before any session exists."""
        token = secrets.token_urlsafe(24)
        return self.login_serializer.dumps(token), token

    def login_token_ok(self, cookie: str | None, form_token: str | None) -> bool:
        if not cookie or not form_token:
            return False
        try:
            expected = self.login_serializer.loads(cookie, max_age=3600)
        except BadSignature:
            return False
        return isinstance(expected, str) and hmac.compare_digest(expected, form_token)


def authenticate(request: Request, store: Store, sessions: Sessions) -> Principal | None:
    header = request.headers.get("authorization", "")
    with store.engine.connect() as conn:
        if header.lower().startswith("bearer "):
            user = user_for_token(conn, header[7:].strip())
            return Principal(user, False, None) if user else None
        cookie = request.cookies.get(SESSION_COOKIE)
        session = sessions.read(cookie) if cookie else None
        if session is None:
            return None
        user = user_by_id(conn, session[0])
    if user is None or user.disabled:
        return None
    return Principal(user, True, sessions.csrf_for(session[1]))


def csrf_ok(principal: Principal, supplied: str | None) -> bool:
    if not principal.by_cookie:
        return True
    return bool(supplied) and hmac.compare_digest(principal.csrf or "", supplied or "")


def require(request: Request, csrf_from_form: str | None = None) -> Principal:
    """The request's principal, or 401; 403 for a cookie-authenticated state change without the CSRF token."""
    app = request.app
    principal = authenticate(request, app.state.store, app.state.sessions)
    if principal is None:
        raise HTTPException(401, "请先登录 / authentication required")
    if request.method in UNSAFE:
        supplied = request.headers.get("x-csrf-token") or csrf_from_form
        if not csrf_ok(principal, supplied):
            raise HTTPException(403, "CSRF 校验失败 / missing or wrong CSRF token")
    return principal


def api_principal(request: Request) -> Principal:
    """FastAPI dependency for the JSON API (CSRF only from the header)."""
    return require(request)

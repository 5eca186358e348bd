"""Users, roles, passwords (argon2) and API tokens (stored as SHA-256 of a random secret).

Roles: ``analyst`` (reads the queue and the figures, sets its models' recommended share), ``prosecutor``
(also decides), ``supervisor`` (also unmasks ID numbers), ``auditor`` (reads the queue and the audit log),
``admin`` (everything). A user may be limited to some models and some counties (区县); then they see nothing else.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
from dataclasses import dataclass

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from engine.review.store import Store, api_tokens, audit, users, utcnow

ROLES = ("analyst", "prosecutor", "supervisor", "auditor", "admin")
DECIDERS = {"prosecutor", "supervisor", "admin"}
UNMASKERS = {"supervisor", "admin"}
AUDITORS = {"auditor", "admin"}
TUNERS = {"analyst", "admin"}       # set a model's recommended share (the model's owners)
MAX_FAILURES = 5
LOCK_MINUTES = 15
TOKEN_PREFIX = "lsm_"

_hasher = PasswordHasher()


class UserError(ValueError):
    """A user command that cannot be done (unknown role, existing name, empty password...)."""


@dataclass(frozen=True)
class User:
    id: int
    name: str
    role: str
    models: tuple[str, ...] | None
    counties: tuple[str, ...] | None
    disabled: bool = False

    @property
    def can_decide(self) -> bool:
        return self.role in DECIDERS

    @property
    def can_unmask(self) -> bool:
        return self.role in UNMASKERS

    @property
    def can_audit(self) -> bool:
        return self.role in AUDITORS

    @property
    def can_tune(self) -> bool:
        return self.role in TUNERS


def _row_user(row) -> User:
    models = tuple(json.loads(row.models)) if row.models else None
    counties = tuple(json.loads(row.counties)) if row.counties else None
    return User(row.id, row.name, row.role, models, counties, bool(row.disabled))


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def add_user(store: Store, name: str, role: str, password: str, models: list[str] | None = None,
             counties: list[str] | None = None, by: str | None = None) -> User:
    if role not in ROLES:
        raise UserError(f"未知角色 unknown role {role!r}; one of {', '.join(ROLES)}")
    if not name.strip():
        raise UserError("用户名不能为空 / the name is empty")
    if len(password) < 8:
        raise UserError("密码至少 8 个字符 / the password needs at least 8 characters")
    with store.engine.begin() as conn:
        if conn.execute(sa.select(users.c.id).where(users.c.name == name)).first():
            raise UserError(f"用户已存在 / user {name!r} exists")
        conn.execute(sa.insert(users).values(
            name=name, role=role, password_hash=_hasher.hash(password),
            models=json.dumps(models) if models else None, counties=json.dumps(counties, ensure_ascii=False)
            if counties else None, created_at=utcnow()))
        audit(conn, by, "user_add", {"name": name, "role": role, "models": models, "counties": counties})
    return get_user(store, name)


def get_user(store: Store, name: str) -> User | None:
    with store.engine.connect() as conn:
        row = conn.execute(sa.select(users).where(users.c.name == name)).first()
    return _row_user(row) if row else None


def user_by_id(conn, user_id: int) -> User | None:
    row = conn.execute(sa.select(users).where(users.c.id == user_id)).first()
    return _row_user(row) if row else None


def user_by_name(conn, name: str) -> User | None:
    row = conn.execute(sa.select(users).where(users.c.name == name)).first()
    return _row_user(row) if row else None


def decider_names(conn) -> list[str]:
    """The enabled users who may decide (the people a clue can be assigned to)."""
    return list(conn.execute(sa.select(users.c.name).where(users.c.role.in_(sorted(DECIDERS)),
                                                           sa.not_(users.c.disabled))
                             .order_by(users.c.name)).scalars())


def list_users(store: Store) -> list[dict]:
    with store.engine.connect() as conn:
        rows = conn.execute(sa.select(users).order_by(users.c.name)).all()
    return [{"name": r.name, "role": r.role, "models": json.loads(r.models) if r.models else None,
             "counties": json.loads(r.counties) if r.counties else None, "disabled": bool(r.disabled),
             "locked_until": r.locked_until.isoformat() if r.locked_until else None} for r in rows]


def disable_user(store: Store, name: str, by: str | None = None) -> None:
    with store.engine.begin() as conn:
        if not conn.execute(sa.update(users).where(users.c.name == name).values(disabled=True)).rowcount:
            raise UserError(f"没有此用户 / no user {name!r}")
        conn.execute(sa.update(api_tokens).where(api_tokens.c.user_id == sa.select(users.c.id).where(
            users.c.name == name).scalar_subquery()).values(revoked=True))
        audit(conn, by, "user_disable", {"name": name})


def new_token(store: Store, name: str, by: str | None = None) -> str:
    """A new API token for the user: returned once, only its hash is kept."""
    user = get_user(store, name)
    if user is None:
        raise UserError(f"没有此用户 / no user {name!r}")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with store.engine.begin() as conn:
        conn.execute(sa.insert(api_tokens).values(user_id=user.id, token_hash=hash_token(token), created_at=utcnow()))
        audit(conn, by, "token_add", {"name": name})
    return token


def user_for_token(conn, token: str) -> User | None:
    row = conn.execute(sa.select(users).join(api_tokens, api_tokens.c.user_id == users.c.id).where(
        api_tokens.c.token_hash == hash_token(token), sa.not_(api_tokens.c.revoked))).first()
    user = _row_user(row) if row else None
    return user if user and not user.disabled else None


def check_login(store: Store, name: str, password: str) -> tuple[User | None, str]:
    """(the user, "ok") or (None, why): ``unknown``, ``disabled``, ``locked``, ``wrong_password``.
    Five failures in a row lock the account for 15 minutes; a failure is audited, as is a login."""
    now = utcnow()
    with store.engine.begin() as conn:
        row = conn.execute(sa.select(users).where(users.c.name == name)).first()
        why = "ok"
        if row is None:
            why = "unknown"
        elif row.disabled:
            why = "disabled"
        elif row.locked_until is not None and row.locked_until > now:
            why = "locked"
        else:
            try:
                _hasher.verify(row.password_hash, password)
            except (VerificationError, InvalidHashError):
                why = "wrong_password"
        if why == "wrong_password":
            failures = row.failed_logins + 1
            values = {"failed_logins": failures}
            if failures >= MAX_FAILURES:
                values = {"failed_logins": 0, "locked_until": now + dt.timedelta(minutes=LOCK_MINUTES)}
            conn.execute(sa.update(users).where(users.c.id == row.id).values(**values))
            if failures >= MAX_FAILURES:
                audit(conn, name, "lockout", {"minutes": LOCK_MINUTES})
        if why != "ok":
            audit(conn, name if row is not None else None, "login_failed",
                  {"reason": why, **({"name_tried": name[:100]} if row is None else {})})
            return None, why
        conn.execute(sa.update(users).where(users.c.id == row.id).values(failed_logins=0, locked_until=None))
        audit(conn, name, "login", {})
        return _row_user(row), why

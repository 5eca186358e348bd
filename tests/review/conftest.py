from __future__ import annotations

import uuid

import pytest

from engine.review.store import open_store


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request, tmp_path):
    """A fresh, empty store URL: a SQLite file, or a new database on the throwaway PostgreSQL server."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'review.db'}"
    server = request.getfixturevalue("postgres_server")
    name = "review_" + uuid.uuid4().hex[:12]
    server.create_database(name)
    return server.dsn(name)


@pytest.fixture
def store(store_url):
    handle = open_store(store_url)
    yield handle
    handle.dispose()


PASSWORD = "correct-horse-1"
SECRET = "test-secret-0123456789abcdef"
XSS_SCRIPT = "<script>alert(1)</script>"
XSS_IMG = '"><img src=x onerror=alert(1)>'
# The one script a page may load: the vendored keyboard helper, from the same origin (no inline script).
KEYS_SCRIPT = '<script src="/static/keys.js" defer></script>'


def without_keys_script(html: str) -> str:
    """The page without its single allowed script tag (so that any other ``<script`` shows up)."""
    assert html.count(KEYS_SCRIPT) == 1, "every page loads keys.js exactly once"
    return html.replace(KEYS_SCRIPT, "")


def demo_rows():
    from tests.review.runbuilder import clue

    return [
        clue("a", subject_id="510104198001010014", name="张伟", score=95, amount="3000.00"),
        clue("b", subject_id="510107199002020027", name="李娜", score=80, county="武侯区"),
        clue("c", "m_pension", subject_id="510105197503030038", name="王芳", score=70),
        clue("x1", subject_id="510104196001010055", name=XSS_SCRIPT, score=60),
        clue("x2", subject_id="510104196001010066", name=XSS_IMG, score=50),
        clue("p", subject_id="510104196001010077", name="100%_张三", score=40),
        clue("n", subject_id="510104196001010088", name="赵六", score=30, county=None),
    ]


class Service:
    """A review service on a published hand-made run, with one user per role."""

    def __init__(self, store_url, tmp_path):
        from fastapi.testclient import TestClient

        from engine.review.app import create_app
        from engine.review.publish import publish_run
        from engine.review.users import add_user
        from tests.review.runbuilder import write_run

        self.app = create_app(store_url, SECRET)
        self.store = self.app.state.store
        publish_run(self.store, write_run(tmp_path / "runs", "r1", demo_rows()))
        add_user(self.store, "admin", "admin", PASSWORD)
        add_user(self.store, "sup", "supervisor", PASSWORD)
        add_user(self.store, "aud", "auditor", PASSWORD)
        add_user(self.store, "ana", "analyst", PASSWORD)
        add_user(self.store, "pros", "prosecutor", PASSWORD, models=["m_dibao"], counties=["锦江区"])
        add_user(self.store, "pros2", "prosecutor", PASSWORD)
        self._client = TestClient

    def client(self):
        return self._client(self.app)

    def login(self, name: str):
        """(client with the session cookie, its CSRF token)."""
        client = self.client()
        r = client.post("/api/v1/session", json={"username": name, "password": PASSWORD})
        assert r.status_code == 200, r.text
        return client, r.json()["csrf_token"]

    def token(self, name: str) -> str:
        from engine.review.users import new_token

        return new_token(self.store, name)

    def audit(self, action=None):
        import json

        import sqlalchemy as sa

        from engine.review.store import audit_log

        with self.store.engine.connect() as conn:
            query = sa.select(audit_log).order_by(audit_log.c.id)
            if action:
                query = query.where(audit_log.c.action == action)
            return [{"user": r.user, "action": r.action, "details": json.loads(r.details)} for r in conn.execute(query)]


@pytest.fixture
def service(store_url, tmp_path):
    svc = Service(store_url, tmp_path)
    yield svc
    svc.store.dispose()


@pytest.fixture(autouse=True)
def cheap_argon2(monkeypatch):
    """argon2 with small parameters in tests (the product keeps argon2-cffi's defaults)."""
    from argon2 import PasswordHasher

    monkeypatch.setattr("engine.review.users._hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))

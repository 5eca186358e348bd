"""Attacker tests: anonymous access, CSRF, role and jurisdiction limits, XSS in names, SQL
metacharacters, lock-out, headers, and the database role that cannot rewrite the audit log."""

from __future__ import annotations

import re
import uuid

import psycopg
import pytest
import sqlalchemy as sa

from engine.review.store import audit_log, open_store
from tests.review.conftest import PASSWORD, XSS_IMG, XSS_SCRIPT, without_keys_script


@pytest.mark.parametrize("method,path", [
    ("get", "/api/v1/clues"), ("get", "/api/v1/clues/a"), ("post", "/api/v1/clues/a/decisions"),
    ("get", "/api/v1/audit"), ("get", "/api/v1/models/effectiveness"), ("post", "/api/v1/clues/a/unmask"),
    ("get", "/api/v1/me"), ("delete", "/api/v1/session"), ("post", "/api/v1/clues/bulk"),
    ("post", "/api/v1/clues/a/suppress"), ("delete", "/api/v1/clues/a/suppress"),
    ("post", "/api/v1/models/m_dibao/recommended"), ("get", "/api/v1/clues?sample=qc")])
def test_anonymous_refused(service, method, path):
    client = service.client()
    r = client.request(method, path, json={"status": "confirmed", "version": 1})
    assert r.status_code == 401
    forged = client.request(method, path, cookies={"lsm_session": "eyJ1aWQiOjF9.forged.sig"})
    assert forged.status_code == 401


def test_anonymous_pages_redirect_to_login(service):
    client = service.client()
    for path in ("/queue", "/clues/a", "/audit", "/models", "/queue?sample=qc"):
        r = client.get(path, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/login"
    for path in ("/queue/bulk", "/clues/a/suppress", "/clues/a/unsuppress", "/models/m_dibao/recommended"):
        r = client.post(path, data={"action": "assign", "clue_id": "a"}, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/login"
    assert service.audit("bulk") == [] and service.audit("suppress") == []


def test_api_csrf(service):
    client, csrf = service.login("pros2")
    body = {"status": "investigating", "version": 1}
    assert client.post("/api/v1/clues/a/decisions", json=body).status_code == 403
    assert client.post("/api/v1/clues/a/decisions", json=body, headers={"X-CSRF-Token": "0" * 64}).status_code == 403
    other, other_csrf = service.login("sup")            # another session's token is not this one's
    assert client.post("/api/v1/clues/a/decisions", json=body, headers={"X-CSRF-Token": other_csrf}).status_code == 403
    assert client.get("/api/v1/clues/a").json()["version"] == 1          # nothing was written
    assert client.post("/api/v1/clues/a/decisions", json=body, headers={"X-CSRF-Token": csrf}).status_code == 200


def _page_csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def test_form_csrf(service):
    client, _ = service.login("pros2")
    page = client.get("/clues/a").text
    token = _page_csrf(page)
    form = {"status": "investigating", "version": "1"}
    assert client.post("/clues/a/decide", data=form, follow_redirects=False).status_code == 403
    assert client.post("/clues/a/decide", data={**form, "csrf_token": "bad"}, follow_redirects=False).status_code == 403
    r = client.post("/clues/a/decide", data={**form, "csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303
    assert client.get("/api/v1/clues/a").json()["status"] == "investigating"


def test_login_form_csrf_and_flow(service):
    client = service.client()
    assert client.post("/login", data={"username": "pros2", "password": PASSWORD}).status_code == 403
    token = _page_csrf(client.get("/login").text)
    wrong = client.post("/login", data={"username": "pros2", "password": "nope", "csrf_token": token})
    assert wrong.status_code == 401 and "用户名或密码错误" in wrong.text
    token = _page_csrf(client.get("/login").text)
    r = client.post("/login", data={"username": "pros2", "password": PASSWORD, "csrf_token": token},
                    follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/queue"
    assert "线索队列" in client.get("/queue").text
    logout = client.post("/logout", data={"csrf_token": _page_csrf(client.get("/queue").text)},
                         follow_redirects=False)
    assert logout.status_code == 303


def test_prosecutor_limits(service):
    client, csrf = service.login("pros")           # m_dibao in 锦江区 only
    items = client.get("/api/v1/clues?page_size=100").json()["items"]
    assert {i["clue_id"] for i in items} == {"a", "x1", "x2", "p"}
    for hidden in ("b", "c", "n"):               # other county, other model, no county
        assert client.get(f"/api/v1/clues/{hidden}").status_code == 404
        r = client.post(f"/api/v1/clues/{hidden}/decisions", json={"status": "investigating", "version": 1},
                        headers={"X-CSRF-Token": csrf})
        assert r.status_code == 404
        assert client.get(f"/clues/{hidden}").status_code == 404
    assert client.get("/api/v1/clues", params={"q": "李娜"}).json()["total"] == 0
    assert client.get("/api/v1/clues", params={"q": "510107199002020027"}).json()["total"] == 0
    assert client.get("/api/v1/clues", params={"model_id": "m_pension"}).json()["total"] == 0
    assert [m["model_id"] for m in client.get("/api/v1/models/effectiveness").json()] == ["m_dibao"]
    queue = client.get("/queue").text
    assert "李娜" not in queue and "王芳" not in queue and "m_pension" not in queue
    assert client.get("/api/v1/audit").status_code == 403
    assert client.get("/audit").status_code == 403
    assert client.post("/api/v1/clues/a/unmask", headers={"X-CSRF-Token": csrf}).status_code == 403
    page = client.get("/clues/a").text
    assert client.post("/clues/a/unmask", data={"csrf_token": _page_csrf(page)}).status_code == 403


def test_hostile_names_are_escaped(service):
    client, _ = service.login("admin")
    for path in ("/queue", "/clues/x1", "/clues/x2"):
        html = client.get(path).text
        assert "<script>alert(1)</script>" not in html and "<img src=x" not in html
    queue = client.get("/queue").text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in queue
    assert "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in queue
    assert "&lt;script&gt;" in client.get("/clues/x1").text
    assert client.get("/api/v1/clues/x1").json()["subject_name"] == XSS_SCRIPT   # JSON carries the text as is
    assert client.get("/api/v1/clues/x2").json()["subject_name"] == XSS_IMG


@pytest.mark.parametrize("q,expected", [("' OR 1=1 --", set()), ("%", {"p"}), ("_", {"p"}), ("张", {"a", "p"}),
                                        ("\"; DROP TABLE clues; --", set()), ("\\", set())])
def test_sql_metacharacters_in_search(service, q, expected):
    client, _ = service.login("admin")
    r = client.get("/api/v1/clues", params={"q": q})
    assert r.status_code == 200 and {i["clue_id"] for i in r.json()["items"]} == expected
    assert client.get("/queue", params={"q": q}).status_code == 200
    assert client.get("/api/v1/clues").json()["total"] == 7


def test_lockout_after_five_failures(service):
    client = service.client()
    for _ in range(5):
        assert client.post("/api/v1/session", json={"username": "pros2", "password": "wrong"}).status_code == 401
    r = client.post("/api/v1/session", json={"username": "pros2", "password": PASSWORD})
    assert r.status_code == 401 and "锁定" in r.json()["detail"]
    assert [a["details"]["reason"] for a in service.audit("login_failed")][-1] == "locked"
    assert len(service.audit("lockout")) == 1
    with service.store.engine.begin() as conn:      # 15 minutes later
        conn.execute(sa.text("UPDATE users SET locked_until = :t WHERE name = 'pros2'"),
                     {"t": "2000-01-01 00:00:00"})
    assert client.post("/api/v1/session", json={"username": "pros2", "password": PASSWORD}).status_code == 200


def test_security_headers(service):
    client, _ = service.login("admin")
    for path in ("/api/v1/clues", "/api/v1/clues/a", "/queue", "/clues/a", "/login", "/api/v1/health"):
        h = client.get(path).headers
        assert h["content-security-policy"].startswith("default-src 'self'")
        assert "unsafe-inline" not in h["content-security-policy"]
        assert h["x-frame-options"] == "DENY" and h["x-content-type-options"] == "nosniff"
        assert h["cache-control"] == "no-store"
    html = client.get("/clues/a").text
    assert "<script" not in without_keys_script(html) and "style=" not in html
    assert client.get("/static/review.css").status_code == 200


def test_audit_page_and_no_full_ids_logged(service):
    client, csrf = service.login("sup")
    client.get("/api/v1/clues", params={"q": "510104198001010014"})
    client.post("/api/v1/clues/a/unmask", headers={"X-CSRF-Token": csrf})
    admin, _ = service.login("aud")
    page = admin.get("/audit").text
    assert "unmask" in page and "search" in page and "login" in page
    with service.store.engine.connect() as conn:
        details = " ".join(conn.execute(sa.select(audit_log.c.details)).scalars())
    assert "510104198001010014" not in details


@pytest.mark.postgres
def test_postgres_app_role_cannot_rewrite_audit(postgres_server, tmp_path):
    name = "review_" + uuid.uuid4().hex[:12]
    postgres_server.create_database(name)
    owner = open_store(postgres_server.dsn(name))    # migrations as the owner
    owner.dispose()
    role = "lsm_app_" + uuid.uuid4().hex[:6]
    postgres_server.create_role(role, password="app-pass")
    for statement in (f"GRANT SELECT, INSERT, UPDATE ON clues, decision_events, users, api_tokens, suppressions TO {role}",
                      f"GRANT SELECT, INSERT ON audit TO {role}",
                      f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {role}",
                      f"GRANT SELECT ON alembic_version TO {role}"):
        postgres_server.execute(statement, database=name)
    app_url = postgres_server.dsn(name, user=role, password="app-pass")
    store = open_store(app_url, migrate=False)
    from engine.review.store import audit

    with store.engine.begin() as conn:
        audit(conn, "pros", "view", {"clue_id": "a"})
        assert conn.execute(sa.select(sa.func.count()).select_from(audit_log)).scalar_one() >= 1
    for statement in (sa.update(audit_log).values(action="forged"), sa.delete(audit_log)):
        with pytest.raises(sa.exc.ProgrammingError) as info, store.engine.begin() as conn:
            conn.execute(statement)
        assert isinstance(info.value.orig, psycopg.errors.InsufficientPrivilege)
    store.dispose()

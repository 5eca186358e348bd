"""Suppressions (暂缓): a decider sets a subject aside for a model until a date with a reason; its clues
leave the queue (also a later run's clue on the same subject), the clue page says so, /models counts
them; a suppression can be lifted early; everything audited — on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from engine.review.publish import publish_run
from engine.review.store import audit_log, suppressions
from tests.review.conftest import XSS_SCRIPT, demo_rows
from tests.review.runbuilder import clue, write_run
from tests.review.test_security import _page_csrf

IN_A_MONTH = (dt.date.today() + dt.timedelta(days=30)).isoformat()


def _ids(client, query="") -> list[str]:
    return [i["clue_id"] for i in client.get(f"/api/v1/clues?page_size=100{query}").json()["items"]]


def _suppress(client, csrf, clue_id, **body):
    body = {"until": IN_A_MONTH, "reason": "已移送民政局核实", **body}
    return client.post(f"/api/v1/clues/{clue_id}/suppress", json=body, headers={"X-CSRF-Token": csrf})


def test_suppressed_clues_leave_the_queue(service):
    client, csrf = service.login("pros2")
    r = _suppress(client, csrf, "a", version=1)
    assert r.status_code == 200, r.text
    held = r.json()
    assert held["until"] == IN_A_MONTH and held["reason"] == "已移送民政局核实" and held["user"] == "pros2"
    assert "a" not in _ids(client) and len(_ids(client)) == 6
    assert _ids(client, "&suppressed=1") == ["a"]
    assert len(_ids(client, "&suppressed=all")) == 7
    item = client.get("/api/v1/clues?suppressed=1").json()["items"][0]
    assert item["suppressed_until"] == IN_A_MONTH
    detail = client.get("/api/v1/clues/a").json()
    assert detail["suppression"]["until"] == IN_A_MONTH and detail["version"] == 1       # no version bump
    assert client.get("/api/v1/clues/b").json()["suppression"] is None

    queue = client.get("/queue").text
    assert 'data-clue-id="a"' not in queue and 'data-clue-id="b"' in queue
    only = client.get("/queue?suppressed=1").text
    assert 'data-clue-id="a"' in only and f"已暂缓至 {IN_A_MONTH}" in only
    page = client.get("/clues/a").text
    assert f"已暂缓至 {IN_A_MONTH}, 原因 已移送民政局核实" in page and 'id="unsuppress-form"' in page
    assert 'id="suppress-form"' not in page
    figures = {m["model_id"]: m["suppressed"] for m in client.get("/api/v1/models/effectiveness").json()}
    assert figures == {"m_dibao": 1, "m_pension": 0}
    assert 'class="num suppressed-count">1<' in client.get("/models").text

    (row,) = service.audit("suppress")
    assert row["user"] == "pros2" and row["details"]["clue_id"] == "a" and row["details"]["until"] == IN_A_MONTH
    assert row["details"]["subject_id"] == "510104********0014"
    with service.store.engine.connect() as conn:
        assert "510104198001010014" not in " ".join(conn.execute(sa.select(audit_log.c.details)).scalars())


def test_suppression_rules(service):
    client, csrf = service.login("pros2")
    yesterday = (dt.date.today() - dt.timedelta(days=1)).isoformat()
    assert _suppress(client, csrf, "a", until=yesterday).status_code == 422
    assert _suppress(client, csrf, "a", until="2025-02-30").status_code == 422
    assert _suppress(client, csrf, "a", until=None).status_code == 422
    assert _suppress(client, csrf, "a", reason="  ").status_code == 422
    assert _suppress(client, csrf, "a", reason="x" * 2001).status_code == 422
    assert _suppress(client, csrf, "a", version=7).status_code == 409
    assert _suppress(client, csrf, "a", version="1").status_code == 422
    assert _suppress(client, csrf, "nope").status_code == 404
    assert client.post("/api/v1/clues/a/suppress", json={"until": IN_A_MONTH, "reason": "r"}).status_code == 403
    for name in ("ana", "aud"):
        other, token = service.login(name)
        assert _suppress(other, token, "a").status_code == 403
        assert other.delete("/api/v1/clues/a/suppress", headers={"X-CSRF-Token": token}).status_code == 403
    limited, token = service.login("pros")
    assert _suppress(limited, token, "b").status_code == 404          # another county
    assert _suppress(limited, token, "c").status_code == 404          # another model
    assert len(_ids(client)) == 7 and service.audit("suppress") == []
    assert {r["details"]["code"] for r in service.audit("suppress_refused")} == {403, 409, 422}

    # today is allowed; a second suppression replaces the first (kept, marked lifted)
    assert _suppress(client, csrf, "a", until=dt.date.today().isoformat()).status_code == 200
    assert _ids(client, "&suppressed=1") == ["a"]
    assert _suppress(client, csrf, "a", reason="延长").status_code == 200
    with service.store.engine.connect() as conn:
        rows = conn.execute(sa.select(suppressions).order_by(suppressions.c.id)).all()
    assert [(r.reason, r.lifted_by is not None) for r in rows] == [("已移送民政局核实", True), ("延长", False)]
    assert service.audit("suppress")[-1]["details"]["replaces"] == rows[0].id
    assert client.get("/api/v1/clues/a").json()["suppression"]["reason"] == "延长"


def test_lift_early_and_expiry(service):
    client, csrf = service.login("sup")
    assert client.delete("/api/v1/clues/a/suppress", headers={"X-CSRF-Token": csrf}).status_code == 404
    assert _suppress(client, csrf, "a").status_code == 200
    assert client.delete("/api/v1/clues/a/suppress").status_code == 403            # no CSRF
    r = client.delete("/api/v1/clues/a/suppress", headers={"X-CSRF-Token": csrf})
    assert r.status_code == 200 and "a" in _ids(client)
    (lifted,) = service.audit("suppression_lift")
    assert lifted["user"] == "sup" and lifted["details"]["clue_id"] == "a" and lifted["details"]["id"] == r.json()["lifted"]
    with service.store.engine.connect() as conn:
        row = conn.execute(sa.select(suppressions)).one()
    assert row.lifted_by == "sup" and row.lifted_at is not None        # kept, not deleted

    # by the page's forms (CSRF-protected)
    page = client.get("/clues/a").text
    token = _page_csrf(page)
    assert client.post("/clues/a/suppress", data={"until": IN_A_MONTH, "reason": "r"}).status_code == 403
    bad = client.post("/clues/a/suppress", data={"until": "2000-01-01", "reason": "r", "csrf_token": token})
    assert bad.status_code == 422 and "不能早于今天" in bad.text
    r = client.post("/clues/a/suppress?model_id=m_dibao", data={"until": IN_A_MONTH, "reason": XSS_SCRIPT,
                                                               "version": "1", "csrf_token": token},
                    follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/clues/a?model_id=m_dibao"
    page = client.get("/clues/a").text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and XSS_SCRIPT not in page
    assert "a" not in _ids(client)
    r = client.post("/clues/a/unsuppress", data={"csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303 and "a" in _ids(client)
    assert client.post("/clues/a/unsuppress", data={"csrf_token": token}).status_code == 404

    # a suppression whose date has passed no longer holds
    assert _suppress(client, csrf, "b").status_code == 200 and "b" not in _ids(client)
    with service.store.engine.begin() as conn:
        conn.execute(sa.update(suppressions).values(until=dt.date.today() - dt.timedelta(days=1)))
    assert "b" in _ids(client) and client.get("/api/v1/clues/b").json()["suppression"] is None
    assert "已暂缓至" not in client.get("/clues/b").text


def test_publish_keeps_suppression_across_runs(service, tmp_path):
    client, csrf = service.login("pros2")
    assert _suppress(client, csrf, "a").status_code == 200
    # the next run: a persists, a2 is a new clue of the same model on the same subject, a3 another model's
    rows = [r for r in demo_rows() if r["clue_id"] != "a"] + [
        clue("a", subject_id="510104198001010014", name="张伟", score=95, amount="3000.00"),
        clue("a2", rule_id="other_rule", subject_id="510104198001010014", name="张伟", score=99),
        clue("a3", "m_pension", subject_id="510104198001010014", name="张伟", score=98)]
    result = publish_run(service.store, write_run(tmp_path / "runs", "r2", rows, states={"a": "persisting"}))
    assert result.suppressed == 2 and result.inserted == 2
    queue = _ids(client)
    assert "a" not in queue and "a2" not in queue and queue[0] == "a3"
    assert _ids(client, "&suppressed=1") == ["a2", "a"]
    assert client.get("/api/v1/clues/a2").json()["suppression"]["until"] == IN_A_MONTH
    figures = {m["model_id"]: m["suppressed"] for m in client.get("/api/v1/models/effectiveness").json()}
    assert figures == {"m_dibao": 2, "m_pension": 0}
    assert client.delete("/api/v1/clues/a2/suppress", headers={"X-CSRF-Token": csrf}).status_code == 200
    assert {"a", "a2"} <= set(_ids(client))

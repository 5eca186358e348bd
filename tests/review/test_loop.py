"""The loop: 检察建议 over confirmed clues of one model, 移送, the 整改 reply, and 回头看 in publish
(two published runs: after the deadline one clue persists — 整改未落实 — and one is resolved)."""

from __future__ import annotations

import datetime as dt
import json

import sqlalchemy as sa

from engine.review.loop import add_months
from engine.review.publish import publish_run
from engine.review.store import clues
from tests.review.conftest import XSS_SCRIPT, demo_rows, without_keys_script
from tests.review.runbuilder import write_run


def _confirm(client, h, clue_id):
    version = client.get(f"/api/v1/clues/{clue_id}").json()["version"]
    r = client.post(f"/api/v1/clues/{clue_id}/decisions", json={"status": "confirmed", "version": version}, headers=h)
    assert r.status_code == 200, r.text


def test_add_months():
    assert add_months(dt.date(2024, 1, 15), 2) == dt.date(2024, 3, 15)
    assert add_months(dt.date(2024, 12, 31), 2) == dt.date(2025, 2, 28)
    assert add_months(dt.date(2023, 12, 31), 2) == dt.date(2024, 2, 29)


def test_recommendation_rules(service):
    client, csrf = service.login("pros2")
    h = {"X-CSRF-Token": csrf}
    post = client.post
    body = {"clue_ids": ["a", "b"], "agency": "锦江区民政局", "issued_on": "2024-04-10"}
    # only confirmed clues
    assert post("/api/v1/recommendations", json=body, headers=h).status_code == 422
    for c in ("a", "b", "c"):
        _confirm(client, h, c)
    # one model per recommendation (类案); unknown clue 404; no clues 422; bad date 422
    assert post("/api/v1/recommendations", json={**body, "clue_ids": ["a", "c"]}, headers=h).status_code == 422
    assert post("/api/v1/recommendations", json={**body, "clue_ids": ["a", "zz"]}, headers=h).status_code == 404
    assert post("/api/v1/recommendations", json={**body, "clue_ids": []}, headers=h).status_code == 422
    assert post("/api/v1/recommendations", json={**body, "issued_on": "2024-13-01"}, headers=h).status_code == 422
    assert post("/api/v1/recommendations", json={**body, "agency": ""}, headers=h).status_code == 422
    # CSRF and roles
    assert post("/api/v1/recommendations", json=body).status_code == 403
    ana, ana_csrf = service.login("ana")
    assert ana.post("/api/v1/recommendations", json=body, headers={"X-CSRF-Token": ana_csrf}).status_code == 403
    aud, aud_csrf = service.login("aud")
    assert aud.post("/api/v1/recommendations", json=body, headers={"X-CSRF-Token": aud_csrf}).status_code == 403

    r = post("/api/v1/recommendations", json=body, headers=h)
    assert r.status_code == 201, r.text
    rec = r.json()
    assert rec["deadline"] == "2024-06-10" and rec["model_id"] == "m_dibao" and rec["created_by"] == "pros2"
    assert [c["clue_id"] for c in rec["clues"]] == ["a", "b"] and rec["reply"] is None
    assert client.get("/api/v1/clues/a").json()["recommendations"] == [rec["id"]]

    # the reply
    assert post(f"/api/v1/recommendations/{rec['id']}/reply", json={"replied_on": "2024-06-01",
                                                                    "text": "已停发"}).status_code == 403
    r = post(f"/api/v1/recommendations/{rec['id']}/reply", json={"replied_on": "2024-06-01", "text": "已停发"}, headers=h)
    assert r.status_code == 200 and r.json()["reply"]["text"] == "已停发"

    # transfers: confirmed clues only, known targets
    assert post("/api/v1/clues/x1/transfers", json={"to": "police", "case_number": "1", "transferred_on": "2024-05-01"},
                headers=h).status_code == 422
    assert post("/api/v1/clues/a/transfers", json={"to": "army", "case_number": "1", "transferred_on": "2024-05-01"},
                headers=h).status_code == 422
    r = post("/api/v1/clues/a/transfers", json={"to": "police", "case_number": "成公(锦)立字〔2024〕88号",
                                                "transferred_on": "2024-05-01"}, headers=h)
    assert r.status_code == 201
    assert client.get("/api/v1/clues/a").json()["transfers"][0]["case_number"] == "成公(锦)立字〔2024〕88号"

    # a prosecutor limited to m_dibao / 锦江区 sees the recommendation (a is in 锦江区) but not outside it
    pros, _ = service.login("pros")
    listed = pros.get("/api/v1/recommendations").json()
    assert [c["clue_id"] for c in listed[0]["clues"]] == ["a"]       # b is in 武侯区
    actions = [a["action"] for a in service.audit()]
    for action in ("recommendation", "rectification_reply", "transfer", "recommendation_refused"):
        assert action in actions


def test_follow_up_after_deadline(service, tmp_path):
    client, csrf = service.login("pros2")
    h = {"X-CSRF-Token": csrf}
    for c in ("a", "b"):
        _confirm(client, h, c)
    rec = client.post("/api/v1/recommendations", json={"clue_ids": ["a", "b"], "agency": "民政局",
                                                       "issued_on": "2024-04-10"}, headers=h).json()
    rows = demo_rows()
    runs = tmp_path / "runs"
    keep = [r for r in rows if r["clue_id"] != "b"]                  # b is gone: rectified by data
    states = {r["clue_id"]: "persisting" for r in keep}
    # before the deadline nothing is flagged
    before = publish_run(service.store, write_run(runs, "r2", keep, states), as_of=dt.date(2024, 6, 1))
    assert (before.rectification_failed, before.rectified) == (0, 0)
    after = publish_run(service.store, write_run(runs, "r3", keep, states), as_of=dt.date(2024, 6, 11))
    assert (after.rectification_failed, after.rectified) == (1, 1)
    with service.store.engine.connect() as conn:
        flags = dict(conn.execute(sa.select(clues.c.clue_id, clues.c.rectification)).all())
    assert flags["a"] == "failed" and flags["b"] == "rectified" and flags["c"] is None

    failed = client.get("/api/v1/clues", params={"rectification": "failed"}).json()
    assert [i["clue_id"] for i in failed["items"]] == ["a"] and failed["items"][0]["rectification"] == "failed"
    eff = {m["model_id"]: m for m in client.get("/api/v1/models/effectiveness").json()}
    assert (eff["m_dibao"]["recommendations"], eff["m_dibao"]["rectification_failed"],
            eff["m_dibao"]["rectified_by_data"]) == (1, 1, 1)
    got = client.get(f"/api/v1/recommendations/{rec['id']}").json()
    assert (got["rectification_failed"], got["rectified"]) == (1, 1)
    assert json.dumps(service.audit("publish")[-1]["details"]).count("rectification_failed") == 1

    # the pages: the queue filter and badge, the models page, the recommendation page
    page = client.get("/queue", params={"rectification": "failed"}).text
    assert "整改未落实" in page and "/clues/a" in page and "/clues/b\"" not in page
    assert "整改未落实" in client.get("/models").text
    assert "已整改（数据）" in client.get(f"/recommendations/{rec['id']}").text

    # b comes back (reopened) after the deadline: now failed too
    publish_run(service.store, write_run(runs, "r4", rows, {**states, "b": "reopened"}), as_of=dt.date(2024, 7, 1))
    with service.store.engine.connect() as conn:
        assert conn.execute(sa.select(clues.c.rectification).where(clues.c.clue_id == "b")).scalar_one() == "failed"


def test_loop_forms(service):
    client, csrf = service.login("pros2")
    h = {"X-CSRF-Token": csrf}
    _confirm(client, h, "a")
    _confirm(client, h, "x1")
    page = client.get("/clues/x1").text
    assert "对此线索发出检察建议" in page and "登记移送" in page and "时间线" in page
    form = client.get("/recommendations", params={"clue_id": "x1"}).text
    assert 'value="x1" checked' in form and XSS_SCRIPT not in form     # the name is escaped
    # without the CSRF field: 403
    assert client.post("/recommendations", data={"clue_id": ["a"], "agency": "x", "issued_on": "2024-01-01"}
                       ).status_code == 403
    r = client.post("/recommendations", data={"csrf_token": csrf, "clue_id": ["a", "x1"], "agency": "<b>局</b>",
                                              "issued_on": "2024-01-31"}, follow_redirects=False)
    assert r.status_code == 303, r.text
    detail = client.get(r.headers["location"]).text
    assert "2024-03-31" in detail and "&lt;b&gt;局&lt;/b&gt;" in detail
    bad = client.post("/recommendations", data={"csrf_token": csrf, "clue_id": ["b"], "agency": "x",
                                                "issued_on": "2024-01-31"})
    assert bad.status_code == 422 and "属实" in bad.text
    rec_url = r.headers["location"]
    assert client.post(rec_url + "/reply", data={"replied_on": "2024-03-01", "text": "t"}).status_code == 403
    ok = client.post(rec_url + "/reply", data={"csrf_token": csrf, "replied_on": "2024-03-01", "text": "已整改完毕"})
    assert ok.status_code == 200 and "已整改完毕" in ok.text
    t = client.post("/clues/a/transfer", data={"csrf_token": csrf, "to": "discipline", "case_number": "纪〔2024〕1号",
                                              "transferred_on": "2024-02-01"})
    assert t.status_code == 200 and "纪〔2024〕1号" in t.text and "移送纪检监察机关" in t.text
    assert client.post("/clues/a/transfer", data={"to": "police", "case_number": "1",
                                                  "transferred_on": "2024-02-01"}).status_code == 403
    ana, ana_csrf = service.login("ana")
    assert ana.post("/clues/a/transfer", data={"csrf_token": ana_csrf, "to": "police", "case_number": "1",
                                              "transferred_on": "2024-02-01"}).status_code == 403
    assert "发出检察建议</button>" not in ana.get("/recommendations").text


def test_timeline_on_clue_page(store_url, tmp_path):
    from fastapi.testclient import TestClient

    from engine.review.app import create_app
    from engine.review.users import add_user
    from tests.review.conftest import PASSWORD, SECRET
    from tests.review.runbuilder import clue

    row = clue("t", name=XSS_SCRIPT)
    evidence = json.loads(row["evidence"])
    evidence["datasets"] = {"deaths": "<i>死亡登记</i>"}
    evidence["sources"] = [{"dataset": "deaths", "file": "d.csv", "row": 1,
                            "fields": {"death_date": "2023-05-02", "id_number": "510104198001010014"}},
                           *({"dataset": "payments", "file": "p.csv", "row": i,
                              "fields": {"pay_month": f"2023-{m:02d}-01", "amount": 300}} for i, m in enumerate((4, 5, 6)))]
    row["evidence"] = json.dumps(evidence, ensure_ascii=False)
    app = create_app(store_url, SECRET)
    try:
        publish_run(app.state.store, write_run(tmp_path / "runs", "r1", [row]))
        add_user(app.state.store, "ana", "analyst", PASSWORD)
        client = TestClient(app)
        assert client.post("/api/v1/session", json={"username": "ana", "password": PASSWORD}).status_code == 200
        r = client.get("/clues/t")
        assert r.status_code == 200 and "<svg" in r.text and "script-src" not in r.headers["content-security-policy"]
        svg = r.text[r.text.index("<svg"):r.text.index("</svg>")]
        assert "<i>" not in svg and "<script" not in svg and "510104198001010014" not in svg
        assert "<script" not in without_keys_script(r.text).replace("&lt;script", "")
    finally:
        app.state.store.dispose()

"""The JSON API of the contract, on SQLite and PostgreSQL: session, clues, detail, decisions, audit,
effectiveness, masking and unmasking."""

from __future__ import annotations

import json

import pytest

from engine.review.publish import publish_run
from tests.review.conftest import PASSWORD, demo_rows
from tests.review.runbuilder import write_run


def test_health_and_session(service):
    anon = service.client()
    assert anon.get("/api/v1/health").status_code == 200
    assert anon.post("/api/v1/session", json={"username": "admin", "password": "wrong"}).status_code == 401
    assert anon.post("/api/v1/session", json={"username": "nobody", "password": PASSWORD}).status_code == 401
    r = anon.post("/api/v1/session", json={"username": "admin", "password": PASSWORD})
    assert r.status_code == 200 and len(r.json()["csrf_token"]) >= 32
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "samesite=lax" in cookie.lower() and "Max-Age=" in cookie
    assert anon.get("/api/v1/me").json()["role"] == "admin"
    actions = [a["action"] for a in service.audit()]
    assert actions.count("login_failed") == 2 and actions.count("login") == 1


def test_list_order_filters_paging(service):
    client, _ = service.login("admin")
    r = client.get("/api/v1/clues")
    body = r.json()
    assert r.status_code == 200 and body["total"] == 7
    scores = [i["score"] for i in body["items"]]
    assert scores == sorted(scores, reverse=True)
    item = body["items"][0]
    for field in ("clue_id", "model_id", "rule_id", "rank", "score", "confidence", "subject_type", "subject_id",
                  "subject_name", "amount", "period_start", "period_end", "lifecycle", "status", "assignee", "version"):
        assert field in item
    assert item["subject_id"] == "510104********0014"       # masked, even for admin (unmask is explicit)
    assert {i["clue_id"] for i in client.get("/api/v1/clues?model_id=m_pension").json()["items"]} == {"c"}
    assert client.get("/api/v1/clues?min_score=75").json()["total"] == 2
    assert client.get("/api/v1/clues?status=confirmed").json()["total"] == 0
    assert client.get("/api/v1/clues?lifecycle=new").json()["total"] == 7
    page2 = client.get("/api/v1/clues?page=2&page_size=3").json()
    assert [i["clue_id"] for i in page2["items"]] == ["x1", "x2", "p"]
    asc = client.get("/api/v1/clues?sort=score").json()["items"]
    assert asc[0]["clue_id"] == "n"
    assert client.get("/api/v1/clues?sort=evidence").status_code == 422
    assert client.get("/api/v1/clues?page=0").status_code == 422


def test_search_by_name_and_full_id(service):
    client, _ = service.login("admin")
    assert [i["clue_id"] for i in client.get("/api/v1/clues", params={"q": "张伟"}).json()["items"]] == ["a"]
    hit = client.get("/api/v1/clues", params={"q": "510107199002020027"}).json()
    assert [i["clue_id"] for i in hit["items"]] == ["b"]
    assert hit["items"][0]["subject_id"] == "510107********0027"       # the answer stays masked
    # an ID inside the evidence (values.other_id) matches too; a partial number does not match as an ID
    assert client.get("/api/v1/clues", params={"q": "510105199001010023"}).json()["total"] == 7
    assert client.get("/api/v1/clues", params={"q": "5101071990"}).json()["total"] == 0
    searches = service.audit("search")
    assert searches and all("510107199002020027" not in str(s) for s in searches)
    assert any("510107********0027" in s["details"]["q"] for s in searches)


def test_search_follows_the_latest_run(service, tmp_path):
    """A clue's search keys are those of the run last published: an ID that left its evidence no longer
    finds it, a new one does (lower-case check letter too); a renamed subject is found by the new name."""
    rows = demo_rows()
    a = rows[0]
    evidence = json.loads(a["evidence"])
    evidence["values"]["other_id"] = "51010619850505003x"
    rows[0] = {**a, "subject_name": "张伟民", "evidence": json.dumps(evidence, ensure_ascii=False)}
    publish_run(service.store, write_run(tmp_path / "runs2", "r2", rows))
    client, _ = service.login("admin")

    def found(q):
        return sorted(i["clue_id"] for i in client.get("/api/v1/clues", params={"q": q}).json()["items"])

    assert found("510105199001010023") == ["b", "c", "n", "p", "x1", "x2"]
    assert found("51010619850505003x") == ["a"] == found("51010619850505003X")
    assert found("张伟民") == ["a"] and found("伟民") == ["a"]


def test_detail_history_and_masking(service):
    client, _ = service.login("pros2")
    d = client.get("/api/v1/clues/a").json()
    assert d["legal_basis"] == "《社会救助暂行办法》第十三条" and d["history"] == []
    assert d["evidence"]["subject"]["id"] == "510104********0014"
    assert d["evidence"]["values"]["other_id"] == "510105********0023"
    assert "510104198001010014" not in str(d) and "510104********0014" in d["summary"]
    assert client.get("/api/v1/clues/nope").status_code == 404
    assert service.audit("view")[-1]["details"] == {"clue_id": "a"}


def test_unmask_supervisor_only(service):
    sup, sup_csrf = service.login("sup")
    r = sup.post("/api/v1/clues/a/unmask", headers={"X-CSRF-Token": sup_csrf})
    assert r.status_code == 200
    assert r.json()["subject_id"] == "510104198001010014"
    assert r.json()["evidence"]["values"]["other_id"] == "510105199001010023"
    assert service.audit("unmask")[-1] == {"user": "sup", "action": "unmask", "details": {"clue_id": "a"}}
    for name in ("pros2", "ana", "aud"):
        client, csrf = service.login(name)
        assert client.post("/api/v1/clues/a/unmask", headers={"X-CSRF-Token": csrf}).status_code == 403


def test_decisions_moves_and_reasons(service):
    client, csrf = service.login("pros2")
    h = {"X-CSRF-Token": csrf}
    post = client.post
    assert post("/api/v1/clues/a/decisions", json={"status": "dismissed", "version": 1}, headers=h).status_code == 422
    assert post("/api/v1/clues/a/decisions", json={"status": "bogus", "version": 1}, headers=h).status_code == 422
    assert post("/api/v1/clues/a/decisions", json={"status": "confirmed"}, headers=h).status_code == 422
    r = post("/api/v1/clues/a/decisions", json={"status": "investigating", "assignee": "pros2", "version": 1}, headers=h)
    assert r.status_code == 200 and r.json() == {"version": 2}
    r = post("/api/v1/clues/a/decisions", json={"status": "confirmed", "note": "已核实", "recovered_amount": 1200.5,
                                                "version": 2}, headers=h)
    assert r.json() == {"version": 3}
    # confirmed → dismissed directly is not a move (back to investigating first); nothing is written
    bad = post("/api/v1/clues/a/decisions", json={"status": "dismissed", "reason": "lawful", "version": 3}, headers=h)
    assert bad.status_code == 422
    d = client.get("/api/v1/clues/a").json()
    assert d["status"] == "confirmed" and d["version"] == 3 and d["assignee"] == "pros2"
    assert [(e["previous_status"], e["new_status"]) for e in d["history"]] == [
        ("pending", "investigating"), ("investigating", "confirmed")]
    assert d["history"][1]["note"] == "已核实" and d["history"][1]["recovered_amount"] == 1200.5
    ok = post("/api/v1/clues/b/decisions", json={"status": "dismissed", "reason": "data_error", "version": 1}, headers=h)
    assert ok.status_code == 200
    eff = {m["model_id"]: m for m in client.get("/api/v1/models/effectiveness").json()}
    assert eff["m_dibao"] == {"model_id": "m_dibao", "clues": 6, "reviewed": 2, "confirmed": 1, "dismissed": 1,
                              "hit_rate": 0.5, "recovered_amount": 1200.5, "dismissed_by_reason": {"data_error": 1},
                              "recommendations": 0, "rectification_failed": 0, "rectified_by_data": 0,
                              "recommended_percent": None, "suppressed": 0,
                              "rules": [{"rule_id": "default", "clues": 6, "reviewed": 2, "confirmed": 1,
                                         "dismissed": 1, "hit_rate": 0.5, "recovered_amount": 1200.5,
                                         "dismissed_by_reason": {"data_error": 1}, "rectification_failed": 0,
                                         "rectified_by_data": 0}]}
    assert eff["m_pension"]["reviewed"] == 0 and eff["m_pension"]["hit_rate"] is None


@pytest.mark.parametrize("role_user", ["ana", "aud"])
def test_readers_cannot_decide(service, role_user):
    client, csrf = service.login(role_user)
    assert client.get("/api/v1/clues").status_code == 200
    r = client.post("/api/v1/clues/a/decisions", json={"status": "investigating", "version": 1},
                    headers={"X-CSRF-Token": csrf})
    assert r.status_code == 403


def test_same_version_twice_one_wins(service):
    first, c1 = service.login("pros2")
    second, c2 = service.login("sup")
    r1 = first.post("/api/v1/clues/c/decisions", json={"status": "confirmed", "version": 1}, headers={"X-CSRF-Token": c1})
    r2 = second.post("/api/v1/clues/c/decisions", json={"status": "dismissed", "reason": "lawful", "version": 1},
                     headers={"X-CSRF-Token": c2})
    assert sorted([r1.status_code, r2.status_code]) == [200, 409]
    d = first.get("/api/v1/clues/c").json()
    assert d["status"] == "confirmed" and d["version"] == 2 and len(d["history"]) == 1
    attempts = [a for a in service.audit() if a["action"] in ("decision", "decision_refused")]
    assert [(a["user"], a["action"]) for a in attempts] == [("pros2", "decision"), ("sup", "decision_refused")]
    assert attempts[1]["details"]["code"] == 409


def test_audit_api_roles(service):
    for name in ("aud", "admin"):
        client, _ = service.login(name)
        rows = client.get("/api/v1/audit").json()
        assert rows and {"ts", "user", "action"} <= set(rows[0])
        assert "publish" in {r["action"] for r in rows}
    for name in ("pros", "pros2", "sup", "ana"):
        client, _ = service.login(name)
        assert client.get("/api/v1/audit").status_code == 403


def test_bearer_token_needs_no_csrf(service):
    token = service.token("pros2")
    client = service.client()
    h = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/clues", headers=h).json()["total"] == 7
    r = client.post("/api/v1/clues/a/decisions", json={"status": "investigating", "version": 1}, headers=h)
    assert r.status_code == 200
    assert client.get("/api/v1/clues", headers={"Authorization": "Bearer lsm_wrong"}).status_code == 401
    from engine.review.users import disable_user

    disable_user(service.store, "pros2")
    assert client.get("/api/v1/clues", headers=h).status_code == 401

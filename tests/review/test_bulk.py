"""Bulk actions from the queue: assign every clue of a filter (or the checked ones), mark checked clues as
duplicates of a kept one; one decision event, version bump and audit row per clue, one audit row for the
action, skipped clues reported — on SQLite and PostgreSQL."""

from __future__ import annotations

import re

from tests.review.test_security import _page_csrf


def _bulk(client, csrf, **body):
    return client.post("/api/v1/clues/bulk", json=body, headers={"X-CSRF-Token": csrf})


def _detail(client, clue_id):
    return client.get(f"/api/v1/clues/{clue_id}").json()


def test_assign_a_filter(service):
    client, csrf = service.login("pros2")
    r = _bulk(client, csrf, filters={"model_id": "m_dibao", "min_score": 50}, action="assign", assignee="sup")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["action"] == "assign" and body["assignee"] == "sup" and body["skipped"] == []
    assert body["done"] == [{"clue_id": c, "version": 2} for c in ("a", "b", "x1", "x2")]
    for c in ("a", "b", "x1", "x2"):
        d = _detail(client, c)
        assert d["assignee"] == "sup" and d["status"] == "pending" and d["version"] == 2
        assert [(e["user"], e["new_status"], e["assignee"]) for e in d["history"]] == [("pros2", "pending", "sup")]
    assert _detail(client, "p")["assignee"] is None
    decisions = service.audit("decision")
    assert sorted(a["details"]["clue_id"] for a in decisions) == ["a", "b", "x1", "x2"]
    (row,) = service.audit("bulk")
    assert row["user"] == "pros2" and row["details"]["done"] == 4 and row["details"]["skipped"] == 0
    assert row["details"]["filters"] == {"model_id": "m_dibao", "min_score": 50}
    # again: nothing to do, each reported
    again = _bulk(client, csrf, filters={"model_id": "m_dibao", "min_score": 50}, action="assign", assignee="sup").json()
    assert again["done"] == [] and [s["clue_id"] for s in again["skipped"]] == ["a", "b", "x1", "x2"]
    assert len(service.audit("decision")) == 4


def test_assign_checked_and_skips(service):
    client, csrf = service.login("admin")
    # pros sees m_dibao in 锦江区 only: b (武侯区) and c (m_pension) are skipped, zz does not exist
    r = _bulk(client, csrf, clue_ids=["a", "b", "c", "zz", "a"], action="assign", assignee="pros").json()
    assert r["done"] == [{"clue_id": "a", "version": 2}]
    assert {s["clue_id"]: s["reason"].split(" / ")[-1] for s in r["skipped"]} == {
        "zz": "no such clue", "b": "assignee cannot see it", "c": "assignee cannot see it"}
    # a decided clue keeps its status and its reason when reassigned
    assert client.post("/api/v1/clues/b/decisions", json={"status": "dismissed", "reason": "lawful", "version": 1},
                       headers={"X-CSRF-Token": csrf}).status_code == 200
    r = _bulk(client, csrf, clue_ids=["b"], action="assign", assignee="pros2", note="请复核").json()
    assert r["done"] == [{"clue_id": "b", "version": 3}]
    last = _detail(client, "b")["history"][-1]
    assert (last["new_status"], last["reason"], last["assignee"], last["note"]) == ("dismissed", "lawful", "pros2", "请复核")
    # a limited user cannot reach clues outside their limits, and learns nothing about them
    limited, token = service.login("pros")
    r = _bulk(limited, token, clue_ids=["c", "x1"], action="assign", assignee="pros").json()
    assert r["done"] == [{"clue_id": "x1", "version": 2}] and r["skipped"][0]["clue_id"] == "c"
    r = _bulk(limited, token, filters={}, action="assign", assignee="pros2").json()
    assert sorted(d["clue_id"] for d in r["done"]) == ["a", "p", "x1", "x2"]


def test_mark_duplicates(service):
    client, csrf = service.login("pros2")
    assert client.post("/api/v1/clues/x1/decisions", json={"status": "confirmed", "version": 1},
                       headers={"X-CSRF-Token": csrf}).status_code == 200
    r = _bulk(client, csrf, clue_ids=["x1", "x2", "p", "a"], action="duplicate", duplicate_of="a", note="同一笔款")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["done"] == [{"clue_id": "x2", "version": 2}, {"clue_id": "p", "version": 2}]
    assert {s["clue_id"] for s in body["skipped"]} == {"x1", "a"}          # confirmed cannot be dismissed; the kept one
    for c in ("x2", "p"):
        d = _detail(client, c)
        assert d["status"] == "dismissed"
        last = d["history"][-1]
        assert last["reason"] == "duplicate" and "保留线索 a" in last["note"] and "同一笔款" in last["note"]
    assert _detail(client, "x1")["status"] == "confirmed" and _detail(client, "a")["status"] == "pending"
    eff = {m["model_id"]: m for m in client.get("/api/v1/models/effectiveness").json()}
    assert eff["m_dibao"]["dismissed_by_reason"] == {"duplicate": 2}
    (row,) = service.audit("bulk")
    assert row["details"]["action"] == "duplicate" and row["details"]["duplicate_of"] == "a"
    assert row["details"]["done"] == 2 and row["details"]["skipped"] == 2


def test_bulk_refusals(service, monkeypatch):
    client, csrf = service.login("pros2")
    for body in ({"action": "assign", "assignee": "sup"},                                   # neither selection
                 {"action": "assign", "assignee": "sup", "filters": {}, "clue_ids": ["a"]},  # both
                 {"action": "close", "clue_ids": ["a"]},
                 {"action": "assign", "clue_ids": ["a"]},                                    # no assignee
                 {"action": "assign", "clue_ids": ["a"], "assignee": "ana"},                 # not a decider
                 {"action": "assign", "clue_ids": ["a"], "assignee": "nobody"},
                 {"action": "assign", "clue_ids": [], "assignee": "sup"},
                 {"action": "assign", "filters": {"min_score": "x"}, "assignee": "sup"},
                 {"action": "duplicate", "filters": {}, "duplicate_of": "a"},                # checked clues only
                 {"action": "duplicate", "clue_ids": ["b"]},
                 {"action": "duplicate", "clue_ids": ["b"], "duplicate_of": "zz"}):
        assert _bulk(client, csrf, **body).status_code == 422, body
    limited, token = service.login("pros")
    assert _bulk(limited, token, action="duplicate", clue_ids=["a"], duplicate_of="b").status_code == 422   # b hidden
    monkeypatch.setattr("engine.review.bulk.MAX_BULK", 3)
    assert _bulk(client, csrf, action="assign", filters={}, assignee="sup").status_code == 422
    assert client.post("/api/v1/clues/bulk", json={"action": "assign", "clue_ids": ["a"], "assignee": "sup"}).status_code == 403
    for name in ("ana", "aud"):
        other, token = service.login(name)
        assert _bulk(other, token, action="assign", clue_ids=["a"], assignee="sup").status_code == 403
    assert service.audit("decision") == [] and service.audit("bulk") == []
    assert len(service.audit("bulk_refused")) == 15


def test_bulk_from_the_queue_page(service):
    client, _ = service.login("pros2")
    page = client.get("/queue?model_id=m_dibao&min_score=50").text
    assert 'id="bulk-form"' in page and 'name="filter.model_id" value="m_dibao"' in page
    assert 'name="filter.min_score" value="50"' in page
    assert re.findall(r'name="clue_id" value="([^"]+)" form="bulk-form"', page) == ["a", "b", "x1", "x2"]
    assert '<option value="sup">sup</option>' in page and '<option value="ana">' not in page
    token = _page_csrf(page)
    form = {"filter.model_id": "m_dibao", "filter.min_score": "50", "action": "assign", "assignee": "sup",
            "scope": "all"}
    assert client.post("/queue/bulk", data=form).status_code == 403                        # no CSRF
    r = client.post("/queue/bulk", data={**form, "csrf_token": token})
    assert r.status_code == 200 and '<strong id="bulk-done">4</strong>' in r.text
    assert 'href="/queue?model_id=m_dibao&amp;min_score=50"' in r.text
    checked = client.post("/queue/bulk", data={"csrf_token": token, "action": "duplicate", "duplicate_of": "a",
                                               "scope": "checked", "clue_id": ["x1", "a"]})
    assert checked.status_code == 200 and '<strong id="bulk-done">1</strong>' in checked.text
    assert 'data-clue-id="a"' in checked.text and _detail(client, "x1")["status"] == "dismissed"
    bad = client.post("/queue/bulk", data={"csrf_token": token, "action": "assign", "assignee": "ana",
                                           "scope": "checked", "clue_id": ["b"]})
    assert bad.status_code == 422 and "承办人" in bad.text
    ana, _ = service.login("ana")
    ana_page = ana.get("/queue").text
    assert 'id="bulk-form"' not in ana_page
    assert ana.post("/queue/bulk", data={"csrf_token": _page_csrf(ana_page), "action": "assign", "assignee": "sup",
                                         "scope": "checked", "clue_id": ["a"]}).status_code == 403

"""The queue's score band and the per-model recommended filter (优先核查): the share set by a model's owner,
the window-function ranking over each model's open clues, the badge, the form on /models — on SQLite
and PostgreSQL."""

from __future__ import annotations

import re

from engine.review.users import add_user
from tests.review.conftest import PASSWORD
from tests.review.test_security import _page_csrf


def _ids(answer) -> list[str]:
    return [i["clue_id"] for i in answer["items"]]


def _set(client, csrf, model_id, percent):
    return client.post(f"/api/v1/models/{model_id}/recommended", json={"percent": percent},
                       headers={"X-CSRF-Token": csrf})


def test_score_band(service):
    client, _ = service.login("admin")
    assert _ids(client.get("/api/v1/clues?max_score=80").json()) == ["b", "c", "x1", "x2", "p", "n"]
    assert _ids(client.get("/api/v1/clues?min_score=50&max_score=80").json()) == ["b", "c", "x1", "x2"]
    assert client.get("/api/v1/clues?min_score=90&max_score=80").json()["total"] == 0
    for bad in ("max_score=abc", "max_score=nan", "min_score=", "recommended=maybe"):
        r = client.get(f"/api/v1/clues?{bad}")
        assert r.status_code == (200 if bad == "min_score=" else 422), bad
    html = client.get("/queue?min_score=50&max_score=80").text
    assert re.findall(r'data-clue-id="([^"]+)" data-href', html) == ["b", "c", "x1", "x2"]
    assert 'name="max_score" type="number" step="any" value="80"' in html
    assert client.get("/queue?max_score=x").status_code == 422


def test_recommended_share_per_model(service):
    ana, csrf = service.login("ana")
    assert ana.get("/api/v1/clues?recommended=1").json()["total"] == 0        # no share set: nothing marked
    r = _set(ana, csrf, "m_dibao", 20)
    assert r.status_code == 200 and r.json() == {"model_id": "m_dibao", "percent": 20.0}
    # m_dibao has 6 open clues: ceil(6 · 20 %) = 2, the two highest scores
    assert _ids(ana.get("/api/v1/clues?recommended=1").json()) == ["a", "b"]
    listed = {i["clue_id"]: i["recommended"] for i in ana.get("/api/v1/clues").json()["items"]}
    assert listed == {"a": True, "b": True, "c": False, "x1": False, "x2": False, "p": False, "n": False}
    assert _set(ana, csrf, "m_pension", 50).status_code == 200                # 1 open clue: ceil(0.5) = 1
    assert _ids(ana.get("/api/v1/clues?recommended=1").json()) == ["a", "b", "c"]
    assert _ids(ana.get("/api/v1/clues?recommended=1&model_id=m_dibao").json()) == ["a", "b"]

    # a decided clue leaves the open pool: 5 open clues · 20 % = exactly 1
    pros, pcsrf = service.login("pros2")
    assert pros.post("/api/v1/clues/a/decisions", json={"status": "confirmed", "version": 1},
                     headers={"X-CSRF-Token": pcsrf}).status_code == 200
    assert _ids(ana.get("/api/v1/clues?recommended=1").json()) == ["b", "c"]
    # investigating is still open
    assert pros.post("/api/v1/clues/b/decisions", json={"status": "investigating", "version": 1},
                     headers={"X-CSRF-Token": pcsrf}).status_code == 200
    assert _ids(ana.get("/api/v1/clues?recommended=1").json()) == ["b", "c"]

    # the ranking is the model's (store-wide); a limited user sees only their part of it
    limited, _ = service.login("pros")                       # m_dibao in 锦江区: b (武侯区) is not theirs
    assert _ids(limited.get("/api/v1/clues?recommended=1").json()) == []
    assert _set(ana, csrf, "m_dibao", 50).status_code == 200  # ceil(5 · 50 %) = 3: b, x1, x2
    assert _ids(ana.get("/api/v1/clues?recommended=1").json()) == ["b", "c", "x1", "x2"]
    assert _ids(limited.get("/api/v1/clues?recommended=1").json()) == ["x1", "x2"]

    assert _set(ana, csrf, "m_dibao", None).json() == {"model_id": "m_dibao", "percent": None}
    assert _ids(ana.get("/api/v1/clues?recommended=1").json()) == ["c"]
    rows = service.audit("recommended_filter")
    assert [(r["user"], r["details"]["model_id"], r["details"]["percent"], r["details"]["previous"]) for r in rows] == [
        ("ana", "m_dibao", 20.0, None), ("ana", "m_pension", 50.0, None), ("ana", "m_dibao", 50.0, 20.0),
        ("ana", "m_dibao", None, 50.0)]


def test_recommended_share_rules(service):
    add_user(service.store, "ana_p", "analyst", PASSWORD, models=["m_pension"])
    ana, csrf = service.login("ana")
    for bad in (0, -5, 100.5, "abc", True):
        assert _set(ana, csrf, "m_dibao", bad).status_code == 422, bad
    assert _set(ana, csrf, "m_unknown", 20).status_code == 404
    assert _set(ana, csrf, "m_dibao", 100).status_code == 200
    assert ana.post("/api/v1/models/m_dibao/recommended", json={"percent": 20}).status_code == 403   # no CSRF
    for name in ("pros2", "sup", "aud"):
        client, token = service.login(name)
        assert _set(client, token, "m_dibao", 20).status_code == 403
    limited, token = service.login("ana_p")
    assert _set(limited, token, "m_dibao", 20).status_code == 404     # not their model
    assert _set(limited, token, "m_pension", 20).status_code == 200
    admin, token = service.login("admin")
    assert _set(admin, token, "m_dibao", 30).status_code == 200
    figures = {m["model_id"]: m for m in admin.get("/api/v1/models/effectiveness").json()}
    assert figures["m_dibao"]["recommended_percent"] == 30 and figures["m_pension"]["recommended_percent"] == 20
    assert [r["details"]["code"] for r in service.audit("recommended_filter_refused")][:5] == [422] * 5


def test_models_form_and_queue_badge(service):
    ana, _ = service.login("ana")
    page = ana.get("/models").text
    assert 'action="/models/m_dibao/recommended"' in page and 'action="/models/m_pension/recommended"' in page
    token = _page_csrf(page)
    assert ana.post("/models/m_dibao/recommended", data={"percent": "20"}).status_code == 403       # CSRF
    r = ana.post("/models/m_dibao/recommended", data={"percent": "20", "csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/models"
    assert 'value="20"' in ana.get("/models").text
    bad = ana.post("/models/m_dibao/recommended", data={"percent": "500", "csrf_token": token})
    assert bad.status_code == 422 and "不超过 100" in bad.text
    pros, _ = service.login("pros2")
    models = pros.get("/models").text
    assert 'action="/models/m_dibao/recommended"' not in models and "20 %" in models
    queue = pros.get("/queue").text
    found = re.findall(r'<tr class="([^"]*)" id="row-\d+" data-clue-id="([^"]+)"', queue)
    marked = {clue for cls, clue in found if "recommended" in cls.split()}
    assert len(found) == 7 and marked == {"a", "b"}
    assert queue.count('<span class="badge recommended-badge">优先核查</span>') == 2
    only = pros.get("/queue?recommended=1").text
    assert re.findall(r'data-clue-id="([^"]+)" data-href', only) == ["a", "b"]
    assert 'name="recommended" value="1" checked' in only

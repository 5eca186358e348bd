"""Keyboard triage, server side: keys.js served as JavaScript under the unchanged CSP, the data attributes
and ids it uses, the clue page's previous/next links computed from the queue's filters; and the 409 page
that shows the saved decision next to the loser's values — on SQLite and PostgreSQL."""

from __future__ import annotations

import re

from engine.review.app import HEADERS
from tests.review.conftest import KEYS_SCRIPT, without_keys_script
from tests.review.test_security import _page_csrf


def _nav(html: str) -> dict[str, str | None]:
    def link(rel):
        found = re.search(rf'<a href="([^"]+)" id="{rel}-clue" rel="{rel}"', html)
        return found.group(1).replace("&amp;", "&") if found else None
    return {"prev": link("prev"), "next": link("next")}


def test_keys_script_served_under_the_csp(service):
    client, _ = service.login("pros2")
    r = client.get("/static/keys.js")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/javascript")
    assert r.headers["content-security-policy"] == HEADERS["Content-Security-Policy"]
    assert HEADERS["Content-Security-Policy"].startswith("default-src 'self';")
    assert "unsafe-inline" not in HEADERS["Content-Security-Policy"]
    assert r.headers["x-content-type-options"] == "nosniff"
    assert "keydown" in r.text and "decision-form" in r.text and "next-clue" in r.text
    for path in ("/queue", "/clues/a", "/models", "/recommendations", "/login"):
        page = client.get(path)
        assert page.headers["content-security-policy"] == HEADERS["Content-Security-Policy"]
        assert KEYS_SCRIPT in page.text and "<script" not in without_keys_script(page.text)
        assert " on" + "keydown" not in page.text and "javascript:" not in page.text


def test_queue_rows_carry_the_queue(service):
    client, _ = service.login("pros2")
    html = client.get("/queue?model_id=m_dibao&min_score=40").text
    assert '<table class="queue" id="queue-table" data-keys="queue">' in html
    rows = re.findall(r'data-clue-id="([^"]+)" data-href="([^"]+)"', html)
    assert [c for c, _ in rows] == ["a", "b", "x1", "x2", "p"]
    assert rows[0][1] == "/clues/a?model_id=m_dibao&amp;min_score=40"
    assert 'href="/clues/a?model_id=m_dibao&amp;min_score=40">张伟</a>' in html
    assert 'id="keys-help"' in html
    plain = client.get("/queue").text
    assert 'data-clue-id="a" data-href="/clues/a"' in plain


def test_clue_prev_next_from_the_queue(service):
    client, _ = service.login("pros2")
    # the default queue by score: a 95, b 80, c 70, x1 60, x2 50, p 40, n 30
    assert _nav(client.get("/clues/x1").text) == {"prev": "/clues/c", "next": "/clues/x2"}
    assert _nav(client.get("/clues/a").text) == {"prev": None, "next": "/clues/b"}
    assert _nav(client.get("/clues/n").text) == {"prev": "/clues/p", "next": None}
    page = client.get("/clues/x1?model_id=m_dibao").text
    assert _nav(page) == {"prev": "/clues/b?model_id=m_dibao", "next": "/clues/x2?model_id=m_dibao"}
    assert 'href="/queue?model_id=m_dibao" id="back-to-queue"' in page
    assert _nav(client.get("/clues/x2?model_id=m_dibao&min_score=50").text) == {
        "prev": "/clues/x1?model_id=m_dibao&min_score=50", "next": None}
    # the decision form posts the normal CSRF-protected form, and keeps the queue for the way on
    assert 'action="/clues/x1/decide?model_id=m_dibao" class="decide" id="decision-form" data-keys="decision"' in page
    for key, status in (("i", "investigating"), ("c", "confirmed"), ("d", "dismissed")):
        assert f'<option value="{status}" data-key="{key}"' in page
    for element in ('id="decision-status"', 'id="decision-reason"', 'id="decision-note"', 'id="decision-submit"'):
        assert element in page
    token = _page_csrf(page)
    r = client.post("/clues/x1/decide?model_id=m_dibao&status=pending",
                    data={"status": "investigating", "version": "1", "csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/clues/x1?model_id=m_dibao&status=pending"
    # x1 left the pending queue: its neighbours are still those around its place
    assert _nav(client.get(r.headers["location"]).text) == {
        "prev": "/clues/b?model_id=m_dibao&status=pending", "next": "/clues/x2?model_id=m_dibao&status=pending"}
    # parameters that are not a queue give no links, not an error
    odd = client.get("/clues/x1?min_score=abc")
    assert odd.status_code == 200 and _nav(odd.text) == {"prev": None, "next": None}
    # the limits hold: pros sees a, x1, x2, p of m_dibao in 锦江区
    limited, _ = service.login("pros")
    assert _nav(limited.get("/clues/x1").text) == {"prev": "/clues/a", "next": "/clues/x2"}


def test_conflict_page_shows_both_decisions(service):
    first, _ = service.login("pros2")
    second, _ = service.login("sup")
    page1, page2 = first.get("/clues/c").text, second.get("/clues/c").text    # both read version 1
    assert 'name="version" value="1"' in page1 and 'name="version" value="1"' in page2
    r = first.post("/clues/c/decide", data={"status": "investigating", "note": "首位意见：先调取银行流水",
                                            "assignee_me": "1", "version": "1", "csrf_token": _page_csrf(page1)},
                   follow_redirects=False)
    assert r.status_code == 303
    mine = {"status": "dismissed", "reason": "lawful", "note": "第二位意见：<b>合法</b>", "recovered_amount": "12.50",
            "version": "1", "csrf_token": _page_csrf(page2)}
    lost = second.post("/clues/c/decide", data=mine)
    assert lost.status_code == 409
    html = lost.text
    saved = html[html.index('id="conflict-saved"'):html.index('id="conflict-attempt"')]
    attempt = html[html.index('id="conflict-attempt"'):html.index("</section>", html.index('id="conflict-attempt"'))]
    assert "pros2" in saved and "核查中" in saved and "首位意见：先调取银行流水" in saved and "版本 2" in saved
    assert "不属实" in attempt and "合法合规" in attempt and "第二位意见：&lt;b&gt;合法&lt;/b&gt;" in attempt
    # the form keeps what the loser typed, now against the current version
    form = html[html.index('id="decision-form"'):html.index("</form>", html.index('id="decision-form"'))]
    assert 'name="version" value="2"' in form
    assert '<option value="dismissed" data-key="d" selected>' in form
    assert '<option value="lawful" selected>' in form
    assert "第二位意见：&lt;b&gt;合法&lt;/b&gt;</textarea>" in form and 'value="12.50"' in form
    # nothing of the loser was written
    detail = second.get("/api/v1/clues/c").json()
    assert detail["status"] == "investigating" and detail["version"] == 2 and len(detail["history"]) == 1
    # a deliberate resubmit on the current version goes through
    again = second.post("/clues/c/decide", data={**mine, "version": "2", "note": "第二位意见（已核对）"},
                        follow_redirects=False)
    assert again.status_code == 303
    detail = second.get("/api/v1/clues/c").json()
    assert detail["status"] == "dismissed" and detail["version"] == 3
    assert [(e["user"], e["new_status"]) for e in detail["history"]] == [("pros2", "investigating"), ("sup", "dismissed")]
    assert [a["details"]["code"] for a in service.audit("decision_refused")] == [409]


def test_refused_form_keeps_values(service):
    client, _ = service.login("pros2")
    token = _page_csrf(client.get("/clues/a").text)
    r = client.post("/clues/a/decide", data={"status": "dismissed", "note": "理由稍后补", "version": "1",
                                             "csrf_token": token})
    assert r.status_code == 422 and "理由" in r.text and 'id="conflict"' not in r.text
    assert "理由稍后补</textarea>" in r.text and '<option value="dismissed" data-key="d" selected>' in r.text

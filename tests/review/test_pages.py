"""The HTML pages: queue filters and paging, the clue page, a decision through the form (and its
conflict page), the audit and models pages, the roles' navigation."""

from __future__ import annotations

import re

from tests.review.test_security import _page_csrf


def _queue_ids(html: str) -> list[str]:
    return re.findall(r'<td><a href="/clues/([^"?]+)', html)


def test_queue_filters_and_paging(service):
    client, _ = service.login("admin")
    html = client.get("/queue").text
    assert "共 7 条" in html and _queue_ids(html) == ["a", "b", "c", "x1", "x2", "p", "n"]
    assert "510104********0014" in html and "510104198001010014" not in html
    assert _queue_ids(client.get("/queue?model_id=m_pension").text) == ["c"]
    assert _queue_ids(client.get("/queue?county=武侯区").text) == ["b"]
    assert _queue_ids(client.get("/queue?q=张伟").text) == ["a"]
    assert _queue_ids(client.get("/queue?min_score=75").text) == ["a", "b"]
    assert _queue_ids(client.get("/queue?mine=1").text) == []
    assert _queue_ids(client.get("/queue?status=confirmed").text) == []
    assert client.get("/queue?page=x").status_code == 422
    assert "审计日志" in html                    # admin sees the audit link
    pros, _ = service.login("pros2")
    assert "审计日志" not in pros.get("/queue").text


def test_clue_page_and_form_decision(service):
    client, _ = service.login("pros2")
    html = client.get("/clues/a").text
    for text in ("张伟", "《社会救助暂行办法》第十三条", "证据记录", "payments", "作出决定", "510104********0014"):
        assert text in html
    assert "510104198001010014" not in html and "查看完整证件号" not in html     # prosecutors cannot unmask
    token = _page_csrf(html)
    r = client.post("/clues/a/decide", data={"status": "investigating", "version": "1", "assignee_me": "1",
                                             "csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303
    assert _queue_ids(client.get("/queue?mine=1").text) == ["a"]
    page = client.get("/clues/a").text
    assert "核查中" in page and "版本 2" in page
    # a stale form (version 1) → 409 and the page shows the current state
    stale = client.post("/clues/a/decide", data={"status": "confirmed", "version": "1", "csrf_token": token})
    assert stale.status_code == 409 and "已被他人修改" in stale.text and "版本 2" in stale.text
    missing_reason = client.post("/clues/a/decide", data={"status": "dismissed", "version": "2", "csrf_token": token})
    assert missing_reason.status_code == 422 and "理由" in missing_reason.text


def test_supervisor_unmasks_in_page(service):
    client, _ = service.login("sup")
    html = client.get("/clues/a").text
    assert "查看完整证件号" in html
    full = client.post("/clues/a/unmask", data={"csrf_token": _page_csrf(html)})
    assert full.status_code == 200 and "510104198001010014" in full.text
    assert service.audit("unmask")[-1]["user"] == "sup"


def test_audit_and_models_pages(service):
    client, _ = service.login("aud")
    html = client.get("/audit").text
    assert "审计日志" in html and "publish" in html
    assert "publish" in client.get("/audit?action=publish").text
    models = client.get("/models").text
    assert "m_dibao" in models and "m_pension" in models and "成案率" in models
    assert client.get("/").status_code == 200         # redirected to the queue

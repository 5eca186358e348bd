"""The printable documents: the 线索移送表 of a clue and the draft 检察建议书 of a recommendation — the
right roles, the user's limits (404), hostile names escaped, ID numbers masked, audited as print."""

from __future__ import annotations

import re

import pytest

from engine.review.users import add_user
from tests.review.conftest import PASSWORD, XSS_IMG, XSS_SCRIPT, without_keys_script

FULL_ID = re.compile(r"\d{17}[\dX]")


def _confirm(client, h, clue_id):
    version = client.get(f"/api/v1/clues/{clue_id}").json()["version"]
    r = client.post(f"/api/v1/clues/{clue_id}/decisions", json={"status": "confirmed", "version": version,
                                                                 "note": "核实属实", "recovered_amount": "300"},
                    headers=h)
    assert r.status_code == 200, r.text


def _no_inline_code(html: str) -> None:
    assert "<script" not in without_keys_script(html) and "style=" not in html and "<style" not in html
    assert 'href="/static/print.css"' in html


@pytest.fixture
def handled(service):
    """Clues a and x1 (XSS name) confirmed, a transferred to the police, one recommendation over both."""
    client, csrf = service.login("pros2")
    h = {"X-CSRF-Token": csrf}
    for c in ("a", "x1", "b"):
        _confirm(client, h, c)
    r = client.post("/api/v1/clues/a/transfers", json={"to": "police", "case_number": "成公(锦)立字〔2024〕88号",
                                                       "transferred_on": "2024-05-01"}, headers=h)
    assert r.status_code == 201
    r = client.post("/api/v1/recommendations", json={"clue_ids": ["a", "x1", "b"], "agency": "锦江区民政局" + XSS_IMG,
                                                     "issued_on": "2024-04-10"}, headers=h)
    assert r.status_code == 201, r.text
    service.rec_id = r.json()["id"]
    return service


@pytest.mark.parametrize("who", ["pros2", "sup", "admin"])
def test_clue_sheet(handled, who):
    client, _ = handled.login(who)
    r = client.get("/clues/a/sheet")
    assert r.status_code == 200
    html = r.text
    for text in ("线索移送表", "m_dibao", "default", "张伟", "510104********0014", "《社会救助暂行办法》第十三条",
                 "payments", "3,000.00 元", "2024年1月1日 至 2024年3月1日", "属实", "核实属实",
                 "公安机关", "成公(锦)立字〔2024〕88号", "2024年5月1日", f"检察建议 #{handled.rec_id}", "接收人"):
        assert text in html, text
    assert not FULL_ID.search(html)            # masked for every role, also for supervisors and admins
    _no_inline_code(html)
    entry = handled.audit("print")[-1]
    assert entry == {"user": who, "action": "print", "details": {"document": "clue_sheet", "clue_id": "a"}}


def test_clue_sheet_escapes_hostile_names(handled):
    client, _ = handled.login("pros2")
    html = client.get("/clues/x1/sheet").text
    assert XSS_SCRIPT not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    html = client.get("/clues/x2/sheet").text
    assert "<img src=x" not in html and "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in html


def test_clue_sheet_roles_and_limits(handled):
    for reader in ("ana", "aud"):
        client, _ = handled.login(reader)
        assert client.get("/clues/a/sheet").status_code == 403
        assert "打印线索移送表" not in client.get("/clues/a").text
    pros, _ = handled.login("pros")                    # m_dibao in 锦江区
    assert pros.get("/clues/a/sheet").status_code == 200
    for hidden in ("b", "c", "n", "nope"):
        assert pros.get(f"/clues/{hidden}/sheet").status_code == 404
    anon = handled.client().get("/clues/a/sheet", follow_redirects=False)
    assert anon.status_code == 303 and anon.headers["location"] == "/login"
    client, _ = handled.login("pros2")
    assert 'href="/clues/a/sheet"' in client.get("/clues/a").text


def test_recommendation_letter(handled):
    client, _ = handled.login("pros2")
    rec_id = handled.rec_id
    assert f'href="/recommendations/{rec_id}/letter"' in client.get(f"/recommendations/{rec_id}").text
    r = client.get(f"/recommendations/{rec_id}/letter")
    assert r.status_code == 200
    html = r.text
    for text in ("检察建议书", "（草稿）", "检建〔2024〕", "锦江区民政局", "m_dibao", "张伟", "李娜",
                 "510104********0014", "510107********0027", "3,000.00 元", "2024年1月1日至2024年3月1日",
                 "《社会救助暂行办法》第十三条", "《中华人民共和国人民检察院组织法》第二十一条",
                 "请于2024年6月10日前将整改落实情况书面回复本院", "2024年4月10日", "人民检察院"):
        assert text in html, text
    assert html.count("《社会救助暂行办法》第十三条的规定") == 1       # each basis cited once in the conclusion
    assert not FULL_ID.search(html)
    assert XSS_IMG not in html and "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in html   # the agency
    assert XSS_SCRIPT not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html      # x1's name
    _no_inline_code(html)
    assert handled.audit("print")[-1]["details"] == {"document": "recommendation_letter", "recommendation_id": rec_id}


def test_recommendation_letter_roles_and_limits(handled):
    rec_id = handled.rec_id
    add_user(handled.store, "pension_only", "prosecutor", PASSWORD, models=["m_pension"])
    other, _ = handled.login("pension_only")
    assert other.get(f"/recommendations/{rec_id}/letter").status_code == 404
    for reader in ("ana", "aud"):
        client, _ = handled.login(reader)
        assert client.get(f"/recommendations/{rec_id}/letter").status_code == 403
    sup, _ = handled.login("sup")
    assert sup.get("/recommendations/999/letter").status_code == 404
    assert sup.get("/recommendations/x/letter").status_code == 422
    pros, _ = handled.login("pros")                    # 锦江区 only: b (武侯区) is left out, and it says so
    html = pros.get(f"/recommendations/{rec_id}/letter").text
    assert "张伟" in html and "李娜" not in html and "另含 1 条您无权查看的线索" in html
    anon = handled.client().get(f"/recommendations/{rec_id}/letter", follow_redirects=False)
    assert anon.status_code == 303

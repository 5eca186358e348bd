"""The XLSX export of the filtered queue: formula cells neutralised, hostile names as text, ID numbers
masked for every role, the user's model and county limits, every matching row (not one page) up to the
cap, audited; GET needs no CSRF token but a login."""

from __future__ import annotations

import re

import pytest

from engine.review.exports import MEDIA_TYPE, export_queue
from engine.review.publish import publish_run
from engine.review.queries import Filters
from engine.review.users import add_user, get_user
from tests.review.conftest import PASSWORD, XSS_IMG, XSS_SCRIPT
from tests.review.runbuilder import clue, write_run
from tests.review.xlsxread import Book

FORMULAS = ["=cmd|' /C calc'!A0", "+1", "-1", "@SUM(1)", "\t=1+1", "\r=1+1"]
FULL_ID = re.compile(r"\d{17}[\dX]")


@pytest.fixture
def formula_service(service, tmp_path):
    """The demo service plus a model whose subjects have formula names (and one XSS name), in 锦江区,
    and a prosecutor limited to that model."""
    rows = [clue(f"f{i}", "m_formula", subject_id=f"51010419700101{i:03d}X", name=name, score=90 - i)
            for i, name in enumerate(FORMULAS)]
    rows.append(clue("fx", "m_formula", subject_id="510104197001019999", name=XSS_SCRIPT, score=10))
    publish_run(service.store, write_run(tmp_path / "runs", "r2", rows, models=["m_formula"]))
    add_user(service.store, "formula_only", "prosecutor", PASSWORD, models=["m_formula"])
    return service


def _names(book: Book) -> dict[str, tuple]:
    return {r["线索编号"][1]: r["对象"] for r in book.records(0)}


def test_formula_names_neutralised_ids_masked(formula_service):
    client, _ = formula_service.login("admin")          # admin may unmask on a page, never in an export
    r = client.get("/queue.xlsx", params={"model_id": "m_formula"})
    assert r.status_code == 200 and r.headers["content-type"] == MEDIA_TYPE
    assert r.headers["content-disposition"].startswith("attachment; filename=")
    book = Book(r.content)
    assert book.names == ["线索", "导出说明"]
    for i in range(len(book.names)):
        assert "<f>" not in book.xml(i) and "<f " not in book.xml(i)      # no formula anywhere
    names = _names(book)
    assert [names[f"f{i}"] for i in range(len(FORMULAS))] == [("str", "'" + f) for f in FORMULAS]
    assert names["fx"] == ("str", XSS_SCRIPT)                               # text, as it is
    records = book.records(0)
    assert [r["线索编号"][1] for r in records] == [f"f{i}" for i in range(len(FORMULAS))] + ["fx"]  # by score
    assert records[0]["证件号码（已脱敏）"] == ("str", "510104********000X")
    assert records[0]["得分"] == ("n", 90.0) and records[0]["金额（元）"] == ("n", 1000.0)
    assert records[0]["状态"] == ("str", "待核查") and records[0]["生命周期"] == ("str", "新增")
    assert "510104********000X" in records[0]["摘要"][1]                   # the summary's ID masked too
    everything = "".join(book.xml(i) for i in range(2)) + "".join(book.shared)
    assert not FULL_ID.search(everything)
    notes = {row[0][1]: row[1][1] for row in book.cells(1) if len(row) > 1}
    assert notes["筛选：模型"] == "m_formula" and notes["已导出"] == 7.0 and notes["导出人"] == "admin"


def test_export_hostile_demo_names_are_text(service):
    client, _ = service.login("sup")
    book = Book(client.get("/queue.xlsx").content)
    names = _names(book)
    assert names["x1"] == ("str", XSS_SCRIPT) and names["x2"] == ("str", XSS_IMG)
    assert names["p"] == ("str", "100%_张三")
    assert not FULL_ID.search("".join(book.xml(i) for i in range(2)))


def test_export_keeps_the_users_limits_and_filters(formula_service):
    token = formula_service.token("formula_only")
    auth = {"Authorization": f"Bearer {token}"}
    client = formula_service.client()
    r = client.get("/api/v1/clues.xlsx", headers=auth)
    assert r.status_code == 200
    assert sorted(_names(Book(r.content))) == sorted([f"f{i}" for i in range(len(FORMULAS))] + ["fx"])
    pros, _ = formula_service.login("pros")              # m_dibao in 锦江区 only
    assert list(_names(Book(pros.get("/queue.xlsx").content))) == ["a", "x1", "x2", "p"]
    assert list(_names(Book(pros.get("/queue.xlsx", params={"model_id": "m_formula"}).content))) == []
    assert list(_names(Book(pros.get("/queue.xlsx", params={"q": "张伟"}).content))) == ["a"]
    assert list(_names(Book(pros.get("/api/v1/clues.xlsx", params={"sort": "score"}).content))) == \
        ["p", "x2", "x1", "a"]
    admin, _ = formula_service.login("admin")
    assert list(_names(Book(admin.get("/queue.xlsx", params={"min_score": "75", "model_id": "m_dibao"})
                            .content))) == ["a", "b"]
    assert admin.get("/api/v1/clues.xlsx", params={"sort": "evidence"}).status_code == 422
    assert admin.get("/queue.xlsx", params={"min_score": "x"}).status_code == 422


def test_every_row_not_one_page(service, tmp_path):
    rows = [clue(f"many{i:03d}", "m_many", subject_id=f"510104198001{i:06d}", score=i) for i in range(120)]
    publish_run(service.store, write_run(tmp_path / "runs", "r3", rows, models=["m_many"]))
    client, _ = service.login("admin")
    assert "共 120 条" in client.get("/queue", params={"model_id": "m_many"}).text      # 50 a page there
    r = client.get("/queue.xlsx", params={"model_id": "m_many"})
    assert len(Book(r.content).records(0)) == 120 and r.headers["x-export-truncated"] == "0"


def test_export_cap_says_so(service):
    user = get_user(service.store, "admin")
    with service.store.engine.begin() as conn:
        book = export_queue(conn, user, Filters(), limit=3)
    assert (book.rows, book.total, book.truncated) == (3, 7, True)
    read = Book(book.content)
    assert [r["线索编号"][1] for r in read.records(0)] == ["a", "b", "c"]
    notes = [value for row in read.cells(1) for _kind, value in row]
    assert any("超过导出上限 3 条" in str(v) and "前 3 条" in str(v) for v in notes)


def test_export_is_audited_with_filters_and_count(service):
    client, _ = service.login("pros2")
    r = client.get("/queue.xlsx", params={"model_id": "m_dibao", "q": "510104198001010014"})
    assert r.status_code == 200 and len(Book(r.content).records(0)) == 1
    entry = service.audit("export")[-1]
    assert entry["user"] == "pros2"
    assert entry["details"]["rows"] == 1 and entry["details"]["total"] == 1 and entry["details"]["format"] == "xlsx"
    assert entry["details"]["filters"]["model_id"] == "m_dibao"
    assert entry["details"]["filters"]["q"] == "510104********0014"       # the typed ID masked in the audit
    assert "510104198001010014" not in str(service.audit())
    client.get("/api/v1/clues.xlsx", params={"status": "confirmed"})
    assert service.audit("export")[-1]["details"]["filters"] == {"status": "confirmed", "sort": "-score"}
    r = client.get("/api/v1/clues.xlsx", params={"max_score": "85", "suppressed": "all", "changed": "0"})
    assert list(_names(Book(r.content))) == ["b", "c", "x1", "x2", "p", "n"]           # a (95) is above the band
    assert service.audit("export")[-1]["details"]["filters"] == {
        "max_score": 85.0, "suppressed": "all", "changed": False, "sort": "-score"}
    r = client.get("/queue.xlsx", params={"recommended": "1"})               # no model has a share yet
    assert Book(r.content).records(0) == []
    assert service.audit("export")[-1]["details"]["filters"]["recommended"] is True


def test_export_needs_login_not_csrf(service):
    anon = service.client()
    r = anon.get("/queue.xlsx", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"
    assert anon.get("/api/v1/clues.xlsx").status_code == 401
    assert anon.get("/api/v1/clues.xlsx", cookies={"lsm_session": "eyJ1aWQiOjF9.forged.sig"}).status_code == 401
    client, _ = service.login("ana")                      # a GET: the session cookie alone, no CSRF header
    assert client.get("/api/v1/clues.xlsx").status_code == 200
    assert service.audit("export")[-1]["user"] == "ana"


def test_queue_page_links_the_export_with_its_filters(service):
    client, _ = service.login("admin")
    html = client.get("/queue", params={"model_id": "m_pension", "min_score": "10", "page": "1"}).text
    assert 'href="/queue.xlsx?model_id=m_pension&amp;min_score=10"' in html and "导出 XLSX" in html
    assert 'href="/queue.xlsx"' in client.get("/queue").text

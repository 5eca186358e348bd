"""The low-score QC sample (reproducible for a seed, audited) and the other clues on the same subject —
on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import random
import re

from engine.review.publish import publish_run
from tests.review.conftest import XSS_IMG, demo_rows
from tests.review.runbuilder import clue, write_run


def _sample(client, query=""):
    r = client.get(f"/api/v1/clues?sample=qc{query}")
    assert r.status_code == 200, r.text
    return r.json()


def _expected(pool: list[str], size: int, seed: int, scores: dict[str, float]) -> list[str]:
    chosen = random.Random(seed).sample(sorted(pool), min(size, len(pool)))
    return sorted(chosen, key=lambda c: (-scores[c], c))


SCORES = {"a": 95, "b": 80, "c": 70, "x1": 60, "x2": 50, "p": 40, "n": 30}


def test_qc_pool_and_reproducible_sample(service):
    client, csrf = service.login("pros2")
    # no recommended cut: each model's lowest quartile — m_dibao (6): ceil(1.5) = 2 → p, n; m_pension (1): c
    whole = _sample(client, "&size=10&seed=1")
    assert whole["total"] == 3 and [i["clue_id"] for i in whole["items"]] == ["c", "p", "n"]
    assert whole["seed"] == 1 and whole["size"] == 10 and whole["sample"] == "qc"
    # with a cut (m_dibao 50 %: a, b, x1 recommended) the rest is low-score
    ana, acsrf = service.login("ana")
    assert ana.post("/api/v1/models/m_dibao/recommended", json={"percent": 50},
                    headers={"X-CSRF-Token": acsrf}).status_code == 200
    pool = ["x2", "p", "n", "c"]
    assert _sample(client, "&size=10&seed=1")["total"] == 4
    for seed in (0, 7, 12345):
        first = [i["clue_id"] for i in _sample(client, f"&size=2&seed={seed}")["items"]]
        assert first == _expected(pool, 2, seed, SCORES)
        assert [i["clue_id"] for i in _sample(client, f"&size=2&seed={seed}")["items"]] == first
    # deciding a sampled clue does not change the sample of a seed
    before = [i["clue_id"] for i in _sample(client, "&size=3&seed=7")["items"]]
    target = before[0]
    assert client.post(f"/api/v1/clues/{target}/decisions", json={"status": "confirmed", "version": 1},
                       headers={"X-CSRF-Token": csrf}).status_code == 200
    assert [i["clue_id"] for i in _sample(client, "&size=3&seed=7")["items"]] == before
    # filters and limits apply
    assert _sample(client, "&model_id=m_dibao&size=10&seed=3")["total"] == 3
    limited, _ = service.login("pros")                     # m_dibao, 锦江区: x2, p (n has no county)
    assert sorted(i["clue_id"] for i in _sample(limited, "&size=10&seed=3")["items"]) == ["p", "x2"]
    # without a seed one is drawn and returned
    drawn = _sample(client, "&size=2")
    assert isinstance(drawn["seed"], int) and drawn["seed"] >= 0
    rows = service.audit("qc_sample")
    assert rows[-1]["user"] == "pros2" and rows[-1]["details"]["seed"] == drawn["seed"]
    assert rows[-1]["details"]["clue_ids"] == [i["clue_id"] for i in drawn["items"]]
    assert rows[0]["details"] == {"seed": 1, "size": 10, "pool": 3, "clue_ids": ["c", "p", "n"], "model_id": None}
    for bad in ("&size=0", "&size=501", "&size=x", "&seed=-1", "&seed=x"):
        assert client.get(f"/api/v1/clues?sample=qc{bad}").status_code == 422, bad
    assert client.get("/api/v1/clues?sample=all").status_code == 422


def test_qc_sample_page(service):
    client, csrf = service.login("pros2")
    # a suppressed clue is not sampled
    assert client.post("/api/v1/clues/n/suppress", json={"until": dt.date.today().isoformat(), "reason": "暂缓"},
                       headers={"X-CSRF-Token": csrf}).status_code == 200
    html = client.get("/queue?sample=qc&size=5&seed=9").text
    assert "低分抽样质检" in html and 'data-seed="9"' in html and 'data-size="5"' in html
    rows = re.findall(r'data-clue-id="([^"]+)" data-href="([^"]+)"', html)
    # n is out of the pool: m_dibao has 5 live clues, its lowest ceil(5 / 4) = 2 are x2 and p
    assert [c for c, _ in rows] == ["c", "x2", "p"]
    assert rows[0][1] == "/clues/c?sample=qc&amp;size=5&amp;seed=9"
    assert 'href="/queue?sample=qc&amp;size=5&amp;seed=9"' in html and 'value="all"' not in html.split('id="bulk-scope"')[1][:200]
    page = client.get("/clues/c?sample=qc&size=5&seed=9").text
    assert 'href="/clues/x2?sample=qc&amp;size=5&amp;seed=9" id="next-clue"' in page and 'id="prev-clue"' not in page
    drawn = client.get("/queue?sample=qc").text
    seed = re.search(r'data-seed="(\d+)"', drawn).group(1)
    assert f"seed={seed}" in drawn.split('id="qc-link"')[1][:120]
    assert client.get("/queue?sample=qc&size=abc").status_code == 422
    assert 'id="qc-start" href="/queue?model_id=m_dibao&amp;sample=qc&amp;size=20"' in client.get(
        "/queue?model_id=m_dibao").text


def test_other_clues_on_the_same_subject(service, tmp_path):
    rows = demo_rows() + [
        clue("c2", subject_id="510105197503030038", name="王芳", score=20),               # m_dibao, c's subject
        clue("ay", "m_pension", subject_id="510104198001010014:2024", name=XSS_IMG, score=10)]  # a's ID, by year
    publish_run(service.store, write_run(tmp_path / "runs", "r2", rows))
    client, _ = service.login("pros2")
    same = client.get("/api/v1/clues/a").json()["same_subject"]
    assert [(o["clue_id"], o["model_id"]) for o in same] == [("ay", "m_pension")]
    assert "subject_id" not in same[0] and same[0]["subject_name"] == XSS_IMG
    assert [o["clue_id"] for o in client.get("/api/v1/clues/c").json()["same_subject"]] == ["c2"]
    assert [o["clue_id"] for o in client.get("/api/v1/clues/c2").json()["same_subject"]] == ["c"]
    assert [o["clue_id"] for o in client.get("/api/v1/clues/ay").json()["same_subject"]] == ["a"]
    assert client.get("/api/v1/clues/b").json()["same_subject"] == []
    page = client.get("/clues/a").text
    section = page[page.index('id="same-subject"'):page.index("</section>", page.index('id="same-subject"'))]
    assert 'href="/clues/ay" class="same-subject-link"' in section and "m_pension" in section
    assert "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in section and "<img src=x" not in page
    limited, _ = service.login("pros")                      # m_dibao only: ay is not theirs
    assert limited.get("/api/v1/clues/a").json()["same_subject"] == []
    assert 'href="/clues/ay"' not in limited.get("/clues/a").text

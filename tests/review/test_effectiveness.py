"""Model effectiveness per model and per rule (API and /models), from a store with known decisions, and
the models' SVG bar charts: one per model, bars proportional to the figures, every label escaped."""

from __future__ import annotations

import re

import pytest

from engine.report.charts import BAR_PLOT, Bar, bars_svg
from engine.review.publish import publish_run
from tests.review.conftest import XSS_IMG, XSS_SCRIPT, without_keys_script
from tests.review.runbuilder import clue, write_run

# m_two: rule r1 with 5 clues (2 confirmed with 100 and 50.50 recovered, 1 dismissed as lawful), rule r2
# with 3 clues (1 dismissed as duplicate, 1 investigating): 8 clues, 4 reviewed, 2 confirmed, 成案率 50%.
DECISIONS = {"t1": {"status": "confirmed", "recovered_amount": "100"},
             "t2": {"status": "confirmed", "recovered_amount": "50.50"},
             "t3": {"status": "dismissed", "reason": "lawful"},
             "u1": {"status": "dismissed", "reason": "duplicate"},
             "u2": {"status": "investigating"}}


@pytest.fixture
def decided(service, tmp_path):
    rows = [clue(f"t{i}", "m_two", rule_id="r1", subject_id=f"5101041980010100{i:02d}", score=50 + i)
            for i in range(1, 6)]
    rows += [clue(f"u{i}", "m_two", rule_id="r2", subject_id=f"5101041990010100{i:02d}", score=20 + i)
             for i in range(1, 4)]
    publish_run(service.store, write_run(tmp_path / "runs", "r2", rows, models=["m_two"]))
    client, csrf = service.login("pros2")
    for clue_id, body in DECISIONS.items():
        r = client.post(f"/api/v1/clues/{clue_id}/decisions", json={**body, "version": 1},
                        headers={"X-CSRF-Token": csrf})
        assert r.status_code == 200, r.text
    return service


def test_effectiveness_per_model_and_rule(decided):
    client, _ = decided.login("ana")
    eff = {m["model_id"]: m for m in client.get("/api/v1/models/effectiveness").json()}
    assert list(eff) == ["m_dibao", "m_pension", "m_two"]
    two = eff["m_two"]
    assert {k: two[k] for k in ("clues", "reviewed", "confirmed", "dismissed", "hit_rate", "recovered_amount")} == \
        {"clues": 8, "reviewed": 4, "confirmed": 2, "dismissed": 2, "hit_rate": 0.5, "recovered_amount": 150.5}
    assert two["dismissed_by_reason"] == {"lawful": 1, "duplicate": 1}
    assert (two["recommendations"], two["rectification_failed"], two["rectified_by_data"]) == (0, 0, 0)
    r1, r2 = two["rules"]
    assert r1 == {"rule_id": "r1", "clues": 5, "reviewed": 3, "confirmed": 2, "dismissed": 1, "hit_rate": 0.6667,
                  "recovered_amount": 150.5, "dismissed_by_reason": {"lawful": 1}, "rectification_failed": 0,
                  "rectified_by_data": 0}
    assert r2 == {"rule_id": "r2", "clues": 3, "reviewed": 1, "confirmed": 0, "dismissed": 1, "hit_rate": 0.0,
                  "recovered_amount": 0.0, "dismissed_by_reason": {"duplicate": 1}, "rectification_failed": 0,
                  "rectified_by_data": 0}
    assert eff["m_dibao"]["rules"][0]["rule_id"] == "default" and eff["m_dibao"]["hit_rate"] is None
    for m in eff.values():                    # the model's figures are the sums of its rules'
        for name in ("clues", "reviewed", "confirmed", "dismissed"):
            assert m[name] == sum(r[name] for r in m["rules"])


def _charts(html: str) -> dict[str, dict[str, float]]:
    """model id → {bar class: drawn width} of each model's chart."""
    out = {}
    for title, body in re.findall(r'<svg[^>]*class="bars"[^>]*aria-label="([^"]*)"[^>]*>(.*?)</svg>', html, re.S):
        out[title] = {cls: float(w) for w, cls in re.findall(r'<rect [^>]*width="([\d.]+)"[^>]*class="(\w+)"', body)}
    return out


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= 0.1


def test_models_page_charts_are_proportional(decided):
    client, _ = decided.login("sup")
    html = client.get("/models").text
    charts = _charts(html)
    assert list(charts) == ["m_dibao", "m_pension", "m_two"]          # one chart per model
    scale = 8                                                            # m_two has the most clues
    figures = {"m_dibao": (6, 0, 0, None), "m_pension": (1, 0, 0, None), "m_two": (8, 4, 2, 0.5)}
    for model, (n, reviewed, confirmed, rate) in figures.items():
        bars = charts[model]
        assert set(bars) == {"clues", "reviewed", "confirmed", "hit_rate"}
        assert _close(bars["clues"], BAR_PLOT * n / scale)
        assert _close(bars["reviewed"], BAR_PLOT * reviewed / scale)
        assert _close(bars["confirmed"], BAR_PLOT * confirmed / scale)
        assert _close(bars["hit_rate"], BAR_PLOT * (rate or 0))
    assert _close(charts["m_two"]["clues"], 2 * charts["m_two"]["reviewed"])
    assert _close(charts["m_dibao"]["clues"] / charts["m_two"]["clues"], 6 / 8)
    for text in ("成案率", "50.0%", "66.7%", "r1", "r2", "合法合规 1", "重复线索 1", "150.50"):
        assert text in html, text
    assert "<script" not in without_keys_script(html) and "style=" not in html


def test_limited_user_sees_only_their_models_figures(decided):
    client, _ = decided.login("pros")                 # m_dibao in 锦江区: a, x1, x2, p
    eff = client.get("/api/v1/models/effectiveness").json()
    assert [m["model_id"] for m in eff] == ["m_dibao"] and eff[0]["clues"] == 4
    charts = _charts(client.get("/models").text)
    assert list(charts) == ["m_dibao"] and _close(charts["m_dibao"]["clues"], BAR_PLOT)


def test_chart_labels_are_escaped():
    svg = bars_svg([Bar(XSS_SCRIPT, 1, 2, XSS_IMG, "clues")], title=XSS_IMG)
    assert "<script>" not in svg and "<img" not in svg
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in svg and "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;" in svg
    assert _close(float(re.search(r'<rect [^>]*width="([\d.]+)"', svg).group(1)), BAR_PLOT / 2)
    zero = bars_svg([Bar("x", 0, 0, "0"), Bar("y", 5, 2, "5")], title="t")
    assert re.findall(r'<rect [^>]*width="([\d.]+)"', zero) == ["0.0", f"{BAR_PLOT:.1f}"]   # capped at full

"""The sample generator: same seed, same bytes; a truth for every model; every messy form present."""

from __future__ import annotations

import filecmp
import json

from sample_data.generate import generate


def _files(root):
    return sorted(p.relative_to(root) for p in root.rglob("*") if p.is_file())


def test_same_seed_gives_identical_files_and_another_seed_differs(tmp_path):
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    generate(a, seed=11, scale=200)
    generate(b, seed=11, scale=200)
    generate(c, seed=12, scale=200)
    assert _files(a) == _files(b)
    assert all(filecmp.cmp(a / f, b / f, shallow=False) for f in _files(a))
    assert any(not filecmp.cmp(a / f, c / f, shallow=False) for f in set(_files(a)) & set(_files(c)))


def test_truth_and_the_messy_forms(sample_root):
    truth = json.loads((sample_root / "truth.json").read_text(encoding="utf-8"))
    for model in ("prisoner_dibao", "prisoner_pension", "deceased_pension", "deceased_dibao"):
        assert truth["models"][model]["default"], model
    formats = {d["format"] for d in truth["datasets"].values()}
    assert formats == {"csv", "monthly_csv", "parquet", "xlsx"}
    assert all(d["quarantined"] > 0 for d in truth["datasets"].values())
    roster = (sample_root / "prison_roster.csv").read_bytes()
    roster.decode("gb18030")
    try:
        roster.decode("utf-8")
        raise AssertionError("the roster should be GB18030, not UTF-8")
    except UnicodeDecodeError:
        pass
    text = "".join(p.read_bytes().decode("utf-8-sig", errors="ignore") for p in (sample_root / "dibao_payments").glob("*.csv"))
    assert "万元" in text or "¥" in text or "元" in text
    assert "年" in text  # months like 2023年1月
    assert "payment_id" in text  # one file with English headers


def test_org_variants_keep_the_key_and_lookalikes_never_match():
    import random

    import polars as pl
    from rapidfuzz.fuzz import ratio

    from engine.normalize.orgs import OrgKeyRules
    from sample_data.orgs import OrgFactory

    orgs = OrgFactory(random.Random(5))
    companies = [orgs.company(industry) for industry in ["建筑工程", "劳务", "餐饮管理", "食品"] * 25]
    projects = [orgs.project() for _ in range(100)]
    names = [c.name for c in companies] + projects
    variants = [orgs.variant(n) for n in names]
    lookalikes = [orgs.lookalike(c).name for c in companies]
    keys = OrgKeyRules.default().frame_keys(pl.Series(names + variants + lookalikes))["key"].to_list()
    original, varied, other = keys[:200], keys[200:400], keys[400:]
    assert original == varied                              # another agency's writing: the same key
    assert len(set(original)) == 200                       # no two entities share a key
    assert all(ratio(a, b) < 90 for a, b in zip(original, other, strict=False))   # look-alikes stay apart

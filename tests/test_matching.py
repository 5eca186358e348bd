"""Entity matching: every comparator level on real Chinese examples, the near misses, the guard, the weights."""

from __future__ import annotations

import polars as pl
import pyarrow as pa
import pytest
from builders import valid_id

from engine.execute.match_ops import MatchExplosion
from engine.ingest.normalize.orgs import OrgKeyRules
from engine.linking import link

ZHANG_WEI = valid_id("51010419900101001")       # 张伟, born 1990-01-01, male (odd sequence)
OTHER_ZHANG = valid_id("51010719851212003")     # another 张伟


def levels(left: dict, right: dict, compare: dict, block: str = "blk") -> list[str]:
    """The level of each left row against the single right row."""
    lt = pa.table({**left, block: ["k"] * len(next(iter(left.values())))})
    rt = pa.table({**right, block: ["k"]})
    scored = link(lt, rt, {"left": "a", "right": "b", "block": [block], "compare": [compare]}).scored
    name = compare.get("name") or compare["field"]
    return [r[f"{name}_level"] for r in sorted(scored.to_pylist(), key=lambda r: r["_lrid"])]


def test_id_levels():
    swapped = ZHANG_WEI[:15] + ZHANG_WEI[16] + ZHANG_WEI[15] + ZHANG_WEI[17:]
    assert swapped != ZHANG_WEI
    substituted = ZHANG_WEI[:16] + ("0" if ZHANG_WEI[16] != "0" else "2") + ZHANG_WEI[17]
    same_birth_gender = valid_id("51010619900101003")   # same birth date, male, another area and sequence
    same_birth_other_gender = valid_id("51010619900101002")
    got = levels({"id": [ZHANG_WEI, substituted, swapped, same_birth_gender, same_birth_other_gender, None]},
                 {"id": [ZHANG_WEI]}, {"field": "id", "method": "id_cn"})
    assert got == ["exact", "one_edit", "one_edit", "birth_gender", "none", "null"]


def test_name_levels_with_homophones():
    got = levels({"n": ["张伟", "章伟", "张建华", "李娜", None]}, {"n": ["张伟"]}, {"field": "n", "method": "name_zh"})
    assert got == ["exact", "pinyin", "none", "none", "null"]
    assert levels({"n": ["王方"]}, {"n": ["王芳"]}, {"field": "n", "method": "name_zh"}) == ["pinyin"]
    # One character of three differs (ratio 66.7 ≥ 66): similar; a two-character name is not.
    assert levels({"n": ["张建华", "欧阳修元"]}, {"n": ["张建国"]}, {"field": "n", "method": "name_zh"})[0] == "similar"
    assert levels({"n": ["欧阳修远"]}, {"n": ["欧阳修元"]}, {"field": "n", "method": "name_zh"}) == ["pinyin"]
    assert levels({"n": ["欧阳修远"]}, {"n": ["欧阳修文"]}, {"field": "n", "method": "name_zh"}) == ["similar"]


def _org_table(names: list[str]) -> dict:
    keys = OrgKeyRules.default().frame_keys(pl.Series(names))
    return {"org": names, "org_key": keys["key"].to_list(), "org_phase": keys["phase"].to_list()}


def test_org_levels_key_fuzzy_token_and_phase():
    left = _org_table(["四川华建建工有限责任公司", "华建建筑工程集团有限公司", "锦江花园小区二期建设项目",
                       "锦江花园小区一期", "中铁八局第三工程有限公司"])
    right = _org_table(["华建建筑工程（成都）有限公司"])
    got = levels(left, right, {"field": "org", "method": "org_name"})
    assert got[0] == "key"                 # region prefix, legal form, abbreviation: the same key
    assert got[1] == "key"                 # 集团有限公司 is a legal form too
    assert got[3] == "none" and got[4] == "none"
    # The same project written twice: the phase decides.
    phases = levels(_org_table(["锦江花园小区建设工程二期", "锦江花园小区建设工程一期", "锦江花园小区建设工称二期"]),
                    _org_table(["锦江花园小区建设工程(二期)"]), {"field": "org", "method": "org_name"})
    assert phases == ["key", "none", "fuzzy"]
    reordered = levels(_org_table(["花园小区锦城建设二期"]), _org_table(["锦城花园小区建设二期"]),
                       {"field": "org", "method": "org_name"})
    assert reordered == ["token"]


def test_date_levels():
    got = levels({"d": pa.array(["2023-03-05", "2023-05-03", "2023-03-07", "2023-04-05", None], pa.string()).cast(
        pa.date32())}, {"d": pa.array(["2023-03-05"]).cast(pa.date32())},
        {"field": "d", "method": "date", "within_days": 3})
    assert got == ["exact", "transposed", "within", "none", "null"]


def test_text_code_and_exact_levels():
    assert levels({"s": ["smith", "smyth", "jones"]}, {"s": ["smith"]}, {"field": "s", "method": "text"}) == [
        "exact", "jw", "none"]
    assert levels({"s": ["2054", "2045", "2099"]}, {"s": ["2054"]}, {"field": "s", "method": "code"}) == [
        "exact", "one_edit", "none"]
    assert levels({"s": ["a", "b"]}, {"s": ["a"]}, {"field": "s", "method": "exact"}) == ["exact", "none"]


def _people(n_common: int) -> tuple[pa.Table, pa.Table]:
    """Left: n_common 张伟 (different people) and one 欧阳修远; right: one of each, same birth dates."""
    names = ["张伟"] * n_common + ["欧阳修远"]
    births = ["1990-01-01"] * (n_common + 1)
    left = pa.table({"name": names, "birth": births, "id": [None] * (n_common + 1)}, schema=pa.schema(
        [("name", pa.string()), ("birth", pa.string()), ("id", pa.string())]))
    right = pa.table({"name": ["张伟", "欧阳修远"], "birth": ["1990-01-01", "1990-01-01"], "id": [ZHANG_WEI, None]})
    return left, right


def test_common_names_count_for_less_than_rare_ones():
    left, right = _people(40)
    spec = {"left": "a", "right": "b", "block": ["birth"],
            "compare": [{"field": "name", "method": "name_zh", "tf_adjust": True}]}
    scored = link(left, right, spec).scored.to_pylist()
    exact = {r["name__l"]: r["name_weight"] for r in scored if r["name_level"] == "exact"}
    assert exact["欧阳修远"] > exact["张伟"] + 3  # 张伟 is 41 times as frequent: far weaker evidence


def _background(n: int) -> tuple[list[str], list[str]]:
    """n distinct people (names and valid IDs) for realistic u estimates."""
    surnames, given = "赵钱孙李周吴郑王冯陈褚卫蒋沈韩杨朱秦尤许", "明华国庆军平刚勇毅俊峰强"
    names = [surnames[i % 20] + given[(i // 20) % 12] + given[(i // 240) % 12] for i in range(n)]
    ids = [valid_id(f"510105{1950 + i % 50}{(i % 12) + 1:02d}{(i % 28) + 1:02d}{i % 1000:03d}") for i in range(n)]
    return names, ids


def test_same_name_other_person_is_not_linked():
    names, ids = _background(300)
    left = pa.table({"name": ["张伟", "张伟"], "id": [ZHANG_WEI, OTHER_ZHANG], "county": ["锦江", "锦江"]})
    right = pa.table({"name": ["张伟", *names], "id": [ZHANG_WEI, *ids], "county": ["锦江"] * 301})
    result = link(left, right, {"left": "a", "right": "b", "block": ["county"],
                                "compare": [{"field": "name", "method": "name_zh"}, {"field": "id", "method": "id_cn"}],
                                "accept": "match_probability >= 0.9"})
    assert [r["_rid"] for r in result.links.to_pylist()] == [1]
    other = next(r for r in result.scored.to_pylist() if r["_lrid"] == 2)
    assert other["name_level"] == "exact" and other["id_level"] == "none" and other["match_probability"] < 0.5


def test_zhang_wei_in_two_counties_is_never_compared():
    left = pa.table({"name": ["张伟"], "county": ["锦江区"]})
    right = pa.table({"name": ["张伟"], "county": ["青羊区"]})
    result = link(left, right, {"left": "a", "right": "b", "block": ["county"],
                                "compare": [{"field": "name", "method": "name_zh"}]})
    assert result.scored.num_rows == 0 and result.funnel["candidate_pairs"] == 0


def test_exploding_and_empty_blocking_keys_are_excluded_and_reported():
    n = 1500
    left = pa.table({"pid": ["000000000000000000"] * n + [ZHANG_WEI, ""], "name": ["甲"] * n + ["张伟", "空"]})
    right = pa.table({"pid": ["000000000000000000"] * n + [ZHANG_WEI, ""], "name": ["乙"] * n + ["张伟", "空"]})
    result = link(left, right, {"left": "a", "right": "b", "block": ["pid"], "max_block_pairs": 10_000,
                                "compare": [{"field": "name", "method": "name_zh"}]})
    blocking = result.funnel["blocking"][0]
    assert blocking["excluded_keys"] == 1 and blocking["excluded_pairs"] == n * n
    assert blocking["excluded_examples"][0]["key"] == "000000********0000"   # masked in the report
    assert result.funnel["candidate_pairs"] == 1                               # only 张伟; '' never blocks


def test_too_many_pairs_stops_with_a_clear_error():
    left = pa.table({"k": ["x"] * 400, "name": ["甲"] * 400})
    right = pa.table({"k": ["x"] * 400, "name": ["乙"] * 400})
    with pytest.raises(MatchExplosion, match="160,000 candidate pairs"):
        link(left, right, {"left": "a", "right": "b", "block": ["k"], "max_pairs": 100_000,
                           "compare": [{"field": "name", "method": "name_zh"}]})


def test_links_explain_every_field_and_are_deterministic():
    left = pa.table({"name": ["张伟", "章伟"], "birth": ["1990-01-01"] * 2, "id": [ZHANG_WEI, None]})
    right = pa.table({"name": ["张伟"], "birth": ["1990-01-01"], "id": [ZHANG_WEI]})
    spec = {"left": "a", "right": "b", "block": ["birth"], "accept": "match_probability >= 0.0",
            "compare": [{"field": "name", "method": "name_zh"}, {"field": "id", "method": "id_cn"}]}
    first, second = link(left, right, spec), link(left, right, spec)
    assert first.scored.to_pylist() == second.scored.to_pylist()
    explained = {r["_rid"]: r["_match"] for r in first.links.to_pylist()}
    assert explained[1]["name"]["level"] == "exact" and explained[1]["id"]["level"] == "exact"
    assert explained[2]["name"]["level"] == "pinyin" and explained[2]["id"]["level"] == "null"
    assert explained[2]["name"]["left"] == "章伟" and explained[2]["name"]["right"] == "张伟"
    assert explained[1]["match_probability"] > explained[2]["match_probability"]


def test_one_to_one_keeps_only_each_rows_strictly_best_link():
    # 华建宏 has its exact twin and a one-character neighbour on the right; 华建泓 (left) has only the
    # neighbour's twin; 鼎盛源 / 鼎盛圆 tie against 鼎盛元 — ambiguous, so neither is kept.
    left = _org_table(["华建宏装饰工程有限公司", "华建泓装饰工程有限公司", "鼎盛源园林绿化有限公司", "鼎盛圆园林绿化有限公司"])
    right = _org_table(["四川华建宏装饰工程有限责任公司", "华建泓装饰工程（成都）有限公司", "鼎盛元园林绿化有限公司"])
    spec = {"left": "a", "right": "b", "block": ["blk"], "accept": "org_level IN ('key', 'fuzzy')",
            "compare": [{"field": "org", "method": "org_name", "threshold": 85}]}
    lt, rt = pa.table({**left, "blk": ["k"] * 4}), pa.table({**right, "blk": ["k"] * 3})
    every = {(r["_rid"], r["_rrid"]) for r in link(lt, rt, spec).links.to_pylist()}
    assert every == {(1, 1), (1, 2), (2, 1), (2, 2), (3, 3), (4, 3)}
    best = {(r["_rid"], r["_rrid"]) for r in link(lt, rt, {**spec, "one_to_one": True}).links.to_pylist()}
    assert best == {(1, 1), (2, 2)}


def test_the_decision_may_read_both_records_columns():
    # "When both IDs are present they alone decide; otherwise the names": a pair-level rule that needs the
    # records' own fields, not only the comparison levels.
    left = pa.table({"name": ["张伟", "张伟", "李娜"], "pid": [ZHANG_WEI, None, None], "blk": ["k"] * 3})
    right = pa.table({"name": ["张伟", "李娜"], "pid": [OTHER_ZHANG, None], "blk": ["k"] * 2})
    spec = {"left": "a", "right": "b", "block": ["blk"],
            "compare": [{"field": "pid", "method": "exact"}, {"field": "name", "method": "name_zh"}],
            "accept": "CASE WHEN a.pid IS NOT NULL AND b.pid IS NOT NULL THEN pid_level = 'exact' "
                      "ELSE name_level = 'exact' END"}
    links = {(r["_rid"], r["_rrid"]) for r in link(left, right, spec).links.to_pylist()}
    assert links == {(2, 1), (3, 2)}      # 张伟 with an ID is not the other 张伟; the ones without IDs go by name


def test_em_learns_m_from_the_candidate_pairs():
    # 300 true pairs (same person) among 30,000 candidate pairs; names drawn like real ones.
    import numpy as np

    from sample_data.fake import AREA_CODES, birth_days, id_numbers, person_names

    rng = np.random.default_rng(5)
    names = person_names(rng, 3000).tolist()
    ids = id_numbers(rng, rng.choice(AREA_CODES, 3000), birth_days(rng, 3000, 1950, 2000)).tolist()
    typo = [n[:-1] + "琳" if i % 10 == 0 else n for i, n in enumerate(names[:300])]  # some names misspelt
    left = pa.table({"name": typo, "id": ids[:300], "grp": [i % 30 for i in range(300)]})
    right = pa.table({"name": names, "id": ids, "grp": [i % 30 for i in range(3000)]})
    spec = {"left": "a", "right": "b", "block": ["grp"], "train": "em",
            "compare": [{"field": "name", "method": "text"}, {"field": "id", "method": "id_cn"}]}
    params = {(r["comparison"], r["level"]): r for r in link(left, right, spec).params.to_pylist()}
    assert params[("id", "exact")]["m"] > 0.5
    assert params[("id", "exact")]["weight"] > params[("id", "none")]["weight"]


def test_explain_with_data_reports_the_funnel_and_near_misses(sample_root, tmp_path):
    from conftest import run_lsm

    proc = run_lsm("explain", "prisoner_dibao", "--data", str(sample_root), "--out", str(tmp_path),
                   "--as-of", "2024-06-30", "--near", "5")
    assert proc.returncode == 0, proc.stderr
    text = proc.stdout
    assert "-- match id_typos: accept id_number_level = 'one_edit'" in text
    assert "candidate pairs →" in text and "links" in text
    assert "accepted but not unique" in text          # the planted ambiguous typos
    import re
    assert not re.search(r"\d{17}[\dX]", text.split("-- match id_typos")[1])  # IDs masked


def test_manifest_records_each_match_funnel(sample_run):
    import json

    _, run_dir, _, _ = sample_run
    manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    funnel = next(m for m in manifest["matches"] if m["model"] == "prisoner_dibao")
    assert funnel["relation"] == "id_typos"
    assert funnel["candidate_pairs"] >= funnel["links"] > 0
    assert funnel["left_records"] > 0 and funnel["blocking"][0]["rule"] == "person_name"

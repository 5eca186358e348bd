"""The sample generator: same seed, same bytes; a truth for every model; every messy form present."""

from __future__ import annotations

import filecmp
import json

from conftest import REPO

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


def _header(path) -> list[str]:
    """The column names a file really carries (read here, not taken from the truth)."""
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        return pq.read_schema(path).names
    if path.suffix == ".xlsx":
        import fastexcel

        return fastexcel.read_excel(str(path)).load_sheet(0, n_rows=1).to_polars().columns
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("gb18030")
    return next(line for line in text.splitlines() if line.strip()).split(",")


def test_truth_for_every_rule_and_every_dataset_in_every_messy_form(sample_root):
    from test_evaluation import ALL_MODELS, RULES

    from engine.spec.catalog import load_catalogue

    truth = json.loads((sample_root / "truth.json").read_text(encoding="utf-8"))
    for model in ALL_MODELS:
        for rule in RULES.get(model, {"default"}):
            assert truth["models"][model][rule], (model, rule)
    catalogue = load_catalogue(REPO / "models" / "sources.yaml")
    assert set(truth["datasets"]) == set(catalogue.names) and len(catalogue.names) == 17
    assert all(d["quarantined"] > 0 and d["duplicates"] > 0 for d in truth["datasets"].values())
    # What is on disk: every format, GB18030 and UTF-8 (with a BOM) CSV, Chinese and English headers.
    files = {name: (sorted((sample_root / name).glob("*.csv")) if (sample_root / name).is_dir()
                    else [next(sample_root.glob(f"{name}.*"))]) for name in catalogue.names}
    suffixes = {("monthly" if len(paths) > 1 else paths[0].suffix) for paths in files.values()}
    assert suffixes == {".csv", ".xlsx", ".parquet", "monthly"}
    csvs = [p for paths in files.values() for p in paths if p.suffix == ".csv"]
    assert any(p.read_bytes().startswith(b"\xef\xbb\xbf") for p in csvs)
    gb18030 = []
    for p in csvs:
        try:
            p.read_bytes().decode("utf-8")
        except UnicodeDecodeError:
            gb18030.append(p.name)
    assert "prison_roster.csv" in gb18030 and len(gb18030) >= 2
    languages = set()
    for name, paths in files.items():
        header = set(_header(paths[0]))
        columns = catalogue.dataset(name).columns
        if {c.name for c in columns} <= header:
            languages.add("en")
        elif {c.zh for c in columns} <= header:
            languages.add("zh")
        else:
            raise AssertionError(f"{paths[0]}: header {sorted(header)} is neither the English nor the Chinese one")
    assert languages == {"en", "zh"}
    text = "".join(p.read_bytes().decode("utf-8-sig", errors="ignore") for p in files["dibao_payments"])
    assert "元" in text and "年" in text   # amounts like 1.2万元 and months like 2023年1月


def test_org_variants_keep_the_key_and_lookalikes_never_match():
    import random

    import polars as pl
    from rapidfuzz.fuzz import ratio

    from engine.ingest.normalize.orgs import OrgKeyRules
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

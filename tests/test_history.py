"""Clue lifecycle (pure functions) and the model-result cache's keys."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pyarrow.parquet as pq

from engine.ingest.ingest import DatasetResult, FileResult, IngestResult
from engine.runs.cache import ModelCache
from engine.runs.history import diff_runs, next_states, state_counts


def _clues(*ids: str, model: str = "m1") -> pa.Table:
    return pa.table({"clue_id": list(ids), "model_id": [model] * len(ids), "rule_id": ["default"] * len(ids),
                     "subject_id": [f"s{i}" for i in ids]})


def _state(table: pa.Table) -> dict[str, tuple]:
    return {r["clue_id"]: (r["state"], r["first_seen_run"], r["last_seen_run"]) for r in table.to_pylist()}


def test_states_move_new_persisting_resolved_reopened():
    night1 = next_states(None, _clues("a", "b"), "r1", {"m1"})
    assert _state(night1) == {"a": ("new", "r1", "r1"), "b": ("new", "r1", "r1")}
    night2 = next_states(night1, _clues("b", "c"), "r2", {"m1"})
    assert _state(night2) == {"a": ("resolved", "r1", "r1"), "b": ("persisting", "r1", "r2"), "c": ("new", "r2", "r2")}
    night3 = next_states(night2, _clues("a", "b"), "r3", {"m1"})
    assert _state(night3) == {"a": ("reopened", "r1", "r3"), "b": ("persisting", "r1", "r3"),
                              "c": ("resolved", "r2", "r2")}
    night4 = next_states(night3, _clues("b"), "r4", {"m1"})
    assert _state(night4)["c"] == ("resolved", "r2", "r2")          # resolved stays resolved while gone
    assert state_counts(night3) == {"m1": {"default": {"persisting": 1, "reopened": 1, "resolved": 1}}}


def test_a_model_that_did_not_complete_resolves_nothing():
    night1 = next_states(None, pa.concat_tables([_clues("a"), _clues("x", model="m2")]), "r1", {"m1", "m2"})
    night2 = next_states(night1, _clues("a"), "r2", {"m1"})           # m2 skipped tonight
    assert _state(night2)["x"] == ("new", "r1", "r1")
    assert _state(night2)["a"] == ("persisting", "r1", "r2")


def test_diff_tells_new_from_reopened_by_the_later_runs_history():
    night1 = next_states(None, _clues("a", "b"), "r1", {"m1"})
    night2 = next_states(night1, _clues("b"), "r2", {"m1"})
    night3 = next_states(night2, _clues("a", "b", "c"), "r3", {"m1"})
    changes = {r["clue_id"]: r["change"] for r in diff_runs(_clues("b"), _clues("a", "b", "c"), night3, "r2").to_dicts()}
    assert changes == {"a": "reopened", "b": "persisting", "c": "new"}
    changes = {r["clue_id"]: r["change"] for r in diff_runs(_clues("a", "b"), _clues("b"), None, "r1").to_dicts()}
    assert changes == {"a": "resolved", "b": "persisting"}


class _Plan:
    def __init__(self, fingerprint: str, datasets: list[str]):
        self.model_id, self.fingerprint, self.datasets = "m1", fingerprint, datasets


def _ingested(sha: str) -> IngestResult:
    return IngestResult("data", [DatasetResult("death_records", files=[FileResult("death_records.csv", sha, "csv")])])


def test_cache_key_changes_with_model_inputs_and_as_of_only(catalogue):
    key = ModelCache.key(_Plan("f1", ["death_records"]), _ingested("aa"), dt.date(2024, 6, 30), catalogue)
    assert key == ModelCache.key(_Plan("f1", ["death_records"]), _ingested("aa"), dt.date(2024, 6, 30), catalogue)
    assert key != ModelCache.key(_Plan("f2", ["death_records"]), _ingested("aa"), dt.date(2024, 6, 30), catalogue)
    assert key != ModelCache.key(_Plan("f1", ["death_records"]), _ingested("bb"), dt.date(2024, 6, 30), catalogue)
    assert key != ModelCache.key(_Plan("f1", ["death_records"]), _ingested("aa"), dt.date(2024, 7, 1), catalogue)


def test_cache_round_trip_damage_and_pruning(tmp_path):
    cache = ModelCache(tmp_path)
    table = _clues("a", "b")
    cache.put("m1", "k1", table, {"rel": {"links": 3}})
    got, funnels = cache.get("m1", "k1")
    assert got.equals(table) and funnels == {"rel": {"links": 3}}
    assert cache.get("m1", "k2") is None
    cache.put("m1", "k2", table, {})
    (tmp_path / "m1" / "k2.parquet").write_bytes(b"PAR1 not really")       # damaged: recomputed, not trusted
    assert cache.get("m1", "k2") is None
    cache.put("m2", "k9", table, {})
    cache.keep_only({"m1": "k1"})
    assert sorted(p.name for p in (tmp_path / "m1").iterdir()) == ["k1.json", "k1.parquet"]
    assert (tmp_path / "m2" / "k9.parquet").exists()                       # a model the run did not use stays
    assert pq.read_table(tmp_path / "m1" / "k1.parquet").num_rows == 2

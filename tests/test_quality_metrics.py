"""The DuckDB evaluation of great-expectations' expectations against GX's own pandas engine as the oracle.

Small frames with the awkward cases (no rows, only nulls, duplicates with nulls, compound keys with
partly empty rows, bounds on both sides, an empty value set) are validated by GX (pandas) and by
``engine.quality.metrics``; verdicts, counts and the unexpected examples must agree.
"""

from __future__ import annotations

import datetime as dt
import os

import pandas as pd
import polars as pl
import pytest

from engine.database import connect
from engine.quality.metrics import StagedSource, evaluate, read_staged

os.environ["GX_ANALYTICS_ENABLED"] = "False"
import great_expectations as gx  # noqa: E402
from great_expectations.data_context.types.base import (  # noqa: E402
    DataContextConfig,
    InMemoryStoreBackendDefaults,
    ProgressBarsConfig,
)

D = dt.date
FRAMES = {
    "mixed": pl.DataFrame({
        "s": ["a", "b", None, "a", "c", None, "b", "zz"],
        "k": ["x", None, None, "x", "y", None, "y", "x"],
        "d": [D(2020, 1, 1), None, D(1899, 5, 1), D(2024, 6, 30), D(2030, 1, 1), None, D(2024, 7, 1), D(2000, 2, 29)],
        "f": [True, False, None, True, True, None, False, True],
    }),
    "nulls": pl.DataFrame({"s": [None, None], "k": [None, None], "d": [None, None], "f": [None, None]},
                          schema={"s": pl.String, "k": pl.String, "d": pl.Date, "f": pl.Boolean}),
    "empty": pl.DataFrame(schema={"s": pl.String, "k": pl.String, "d": pl.Date, "f": pl.Boolean}),
}
E = gx.expectations


def _expectations() -> list:
    """Fresh expectation objects (a suite takes ownership of the ones it is given)."""
    return [
        E.ExpectColumnValuesToNotBeNull(column="s", mostly=0.7),
        E.ExpectColumnValuesToNotBeNull(column="s", mostly=0.8),
        E.ExpectColumnValuesToBeInSet(column="s", value_set=["a", "b", "c"], mostly=0.8),
        E.ExpectColumnValuesToBeInSet(column="s", value_set=["a", "b", "c"], mostly=0.9),
        E.ExpectColumnValuesToBeInSet(column="f", value_set=[True], mostly=0.5),
        E.ExpectColumnValuesToBeInSet(column="s", value_set=[], mostly=0.5),
        E.ExpectColumnValuesToBeBetween(column="d", min_value=pd.Timestamp(D(1900, 1, 1)),
                                        max_value=pd.Timestamp(D(2024, 6, 30)), mostly=0.5),
        E.ExpectColumnValuesToBeBetween(column="d", min_value=pd.Timestamp(D(1900, 1, 1)), mostly=1.0),
        E.ExpectColumnValuesToBeUnique(column="s", mostly=0.1),
        E.ExpectColumnValuesToBeUnique(column="s"),
        E.ExpectCompoundColumnsToBeUnique(column_list=["s", "k"]),
        E.ExpectCompoundColumnsToBeUnique(column_list=["s", "k"], mostly=0.5),
        E.ExpectColumnMaxToBeBetween(column="d", min_value=pd.Timestamp(D(2024, 6, 1))),
        E.ExpectColumnMaxToBeBetween(column="d", min_value=pd.Timestamp(D(2031, 1, 1))),
        E.ExpectTableRowCountToBeBetween(min_value=1),
        E.ExpectTableRowCountToBeBetween(min_value=2, max_value=7),
    ]


def _gx_results(frame: pl.DataFrame, expectations: list) -> list:
    config = DataContextConfig(store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
                               analytics_enabled=False,
                               progress_bars=ProgressBarsConfig(globally=False, metric_calculations=False))
    context = gx.get_context(mode="ephemeral", project_config=config)
    batch = (context.data_sources.add_pandas("t").add_dataframe_asset("t").add_batch_definition_whole_dataframe("b")
             .get_batch(batch_parameters={"dataframe": frame.to_pandas()}))
    for i, expectation in enumerate(expectations):  # GX reports in its own order
        expectation.meta = {"i": i}
    validation = batch.validate(gx.ExpectationSuite(name="oracle", expectations=expectations),
                                result_format={"result_format": "SUMMARY", "partial_unexpected_count": 20})
    return sorted(validation.results, key=lambda r: r.expectation_config.meta["i"])


def _plain(value):
    if isinstance(value, pd.Timestamp):
        return value.date()
    return None if value is pd.NaT else value


@pytest.mark.parametrize("frame_name", list(FRAMES))
def test_duckdb_evaluation_agrees_with_great_expectations(frame_name, tmp_path):
    frame = FRAMES[frame_name]
    path = tmp_path / "staged.parquet"
    frame.write_parquet(path)
    con = connect(tmp_path / "spill")
    read_staged(con, path).create_view("v")
    source = StagedSource(con, "v")
    expectations = _expectations()
    oracles = _gx_results(frame, _expectations())
    for expectation, oracle in zip(expectations, oracles, strict=True):
        if oracle.exception_info.get("raised_exception"):  # GX cannot evaluate it (a max over no values)
            success, result = evaluate(source, expectation.expectation_type, dict(expectation.configuration.kwargs))
            assert not success and result["observed_value"] is None, expectation.expectation_type
            continue
        success, result = evaluate(source, expectation.expectation_type, dict(expectation.configuration.kwargs))
        what = f"{frame_name}: {expectation.expectation_type} {expectation.configuration.kwargs}"
        assert success == oracle.success, what
        for key in ("element_count", "missing_count", "unexpected_count", "observed_value"):
            if key in oracle.result:
                assert _plain(result[key]) == _plain(oracle.result[key]), f"{what} {key}"
        if "partial_unexpected_list" not in oracle.result:  # an aggregate (max, row count): no examples
            assert "partial_unexpected_list" not in result, what
            continue
        expected = [_plain(v) for v in oracle.result["partial_unexpected_list"]]
        got = result["partial_unexpected_list"]
        if expectation.expectation_type == "expect_compound_columns_to_be_unique":
            expected = [tuple(v.values()) for v in expected]
            got = [tuple(v.values()) for v in got]
        assert sorted(map(repr, got)) == sorted(map(repr, expected)), f"{what} examples"
    con.close()


def test_two_thresholds_on_the_same_column_scan_once(tmp_path):
    path = tmp_path / "staged.parquet"
    FRAMES["mixed"].write_parquet(path)
    con = connect(tmp_path / "spill")
    read_staged(con, path).create_view("v")
    source = StagedSource(con, "v")
    loose = evaluate(source, "expect_column_values_to_be_in_set", {"column": "s", "value_set": ["a", "b", "c"],
                                                                   "mostly": 0.8})
    strict = evaluate(source, "expect_column_values_to_be_in_set", {"column": "s", "value_set": ["a", "b", "c"],
                                                                    "mostly": 0.9})
    assert (loose[0], strict[0]) == (True, False)  # 5 of 6 values in the set: 83 %
    assert loose[1] == strict[1] and len(source.measured) == 1
    con.close()

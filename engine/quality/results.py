"""What a data-quality check found: one :class:`QualityResult` per check and dataset.

Shared by the basic gates (:mod:`engine.quality.gates`), the declared checks
(:mod:`engine.quality.expectations`), the run and the quality page. Plain data, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field

BASIC_NAMES = {"dataset_present": "数据文件存在", "files_readable": "文件均可读取", "ingested": "导入成功"}
CHECK_ZH = {"dataset_present": "文件存在", "files_readable": "文件可读", "ingested": "导入",
            "non_null_rate": "非空率", "valid_id_rate": "证件号校验", "value_set": "取值范围",
            "date_range": "日期范围", "row_count_change": "行数变化", "freshness": "时效性", "unique": "唯一性",
            "not_empty": "非空数据集"}


@dataclass
class QualityResult:
    """One check on one dataset. The first five keys are fixed by CONTRACT.md."""

    dataset: str
    check: str  # the check type: dataset_present, …, non_null_rate, valid_id_rate, …
    blocking: bool
    passed: bool
    observed: str  # a short human statement of what was measured
    name: str = ""  # the check's readable (Chinese) name, unique within the dataset
    expectation: str = ""  # the great-expectations expectation type ("" for the basic gates)
    examples: list[str] = field(default_factory=list)  # a few offending values, ID numbers masked

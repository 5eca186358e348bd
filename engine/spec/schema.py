"""JSON Schema of model files and of the source catalogue, generated from the typed specs.

Editors that speak the YAML language server (VS Code, JetBrains, Neovim) read the first line of a
file — ``# yaml-language-server: $schema=schema/model.schema.json`` — and then complete keys, show
their descriptions and flag mistakes while the analyst types. The schema is the pydantic models' own
(:meth:`~pydantic.BaseModel.model_json_schema`), with a Chinese/English description on the keys an
analyst writes most and without the fields the loader fills in itself. The committed files under
``models/schema/`` are kept equal to it by ``tests/test_schema.py`` (regenerate with
``lsm schema model > models/schema/model.schema.json``).

Example::

    schema = model_schema()
    schema["properties"]["rules"]["description"]     # '规则：每条规则产生一类线索 / rules: …'
"""

from __future__ import annotations

import copy
import json

from engine.spec.catalog import Catalogue
from engine.spec.model import ModelSpec

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_FILES = {"model": "schema/model.schema.json", "sources": "schema/sources.schema.json"}
LOADER_FIELDS = ("source_file",)  # set by the loader from the file's path, never written by hand

# (definition, key) → description; "" is the top-level object.
DESCRIPTIONS = {
    ("", "id"): "模型编号：小写字母、数字、下划线，与文件名相同 / model id (lower-case name, same as the file name)",
    ("", "version"): "模型版本，修改规则时递增 / version, raised when the rules change",
    ("", "title"): "模型名称（zh 必填，en 可选）/ title in Chinese (and English)",
    ("", "description"): "模型说明：碰撞哪些数据、发现什么问题 / what the model collides and finds",
    ("", "owner"): "负责部门 / owning department",
    ("", "legal_basis"): "法律依据（citation 必填，text 为条文摘录）/ legal basis: citation and the text",
    ("", "subject_type"): "线索对象类型：person、license、penalty… / what a clue is about",
    ("", "parameters"): "模型参数（规则中以 param(name) 引用）/ parameters, read as param(name)",
    ("", "inputs"): "输入：数据集及筛选条件 / inputs: a catalogue dataset and an optional filter",
    ("", "tables"): "内联查找表 / inline lookup tables",
    ("", "relations"): "中间关系：查询、区间合并、匹配或合并 / derived tables: query, merge_intervals, match, union",
    ("", "rules"): "规则：每条规则产生一类线索 / rules: each produces one kind of clue",
    ("", "tests"): "模型测试：给定数据与期望线索（lsm test）/ tests: given rows and the expected clues",
    ("", "test_defaults"): "测试数据的默认列值 / default column values for test rows",
    ("", "extends"): "继承 models/templates/ 下的模板 / a template under models/templates/ to extend",
    ("Catalogue", "datasets"): "数据集：各单位共享的数据 / the agencies' datasets",
    ("Catalogue", "org_name"): "单位名称比对键的规则 / rules of the organisation-name comparison keys",
    ("DatasetSpec", "name"): "数据集名称（文件名或目录名）/ dataset name (its file or folder name)",
    ("DatasetSpec", "columns"): "列：类型、中文表头别名、是否必填 / columns: type, header aliases, required",
    ("DatasetSpec", "quality"): "数据质量检查（blocking 为阻断）/ data-quality checks (blocking or warning)",
}


def _keyed_by_name(schema: dict, holder: dict, key: str, definition: str) -> None:
    """A list of named items may also be written as a mapping keyed by the name (the loader turns
    ``datasets: {prison_roster: {...}}`` into ``[{name: prison_roster, ...}]``): accept both."""
    entry = copy.deepcopy(schema["$defs"][definition])
    entry["required"] = [r for r in entry.get("required", []) if r != "name"]
    entry["properties"].pop("name", None)
    schema["$defs"][f"{definition}ByName"] = entry
    written = holder["properties"][key]
    holder["properties"][key] = {"title": written.get("title", key), "anyOf": [
        {"type": "object", "additionalProperties": {"$ref": f"#/$defs/{definition}ByName"}}, written]}


def _written_form(kind: str, schema: dict) -> dict:
    """What a file may say beyond the typed spec: mappings keyed by name; a model's template arguments."""
    if kind == "sources":
        _keyed_by_name(schema, schema, "datasets", "DatasetSpec")
        _keyed_by_name(schema, schema["$defs"]["DatasetSpec"], "columns", "ColumnSpec")
        _keyed_by_name(schema, schema["$defs"]["DatasetSpecByName"], "columns", "ColumnSpec")
    else:
        schema["properties"]["with"] = {"type": "object", "description":
                                        "模板参数的取值（与 extends 一起使用）/ the template's parameter values"}
        # A model that extends a template gets the rest (inputs, rules, …) from it.
        required = schema.pop("required")
        schema["anyOf"] = [{"required": ["id", "extends"]}, {"required": required}]
        key = schema["$defs"]["MergeIntervalsSpec"]["properties"]["key"]  # one column, or a list of them
        schema["$defs"]["MergeIntervalsSpec"]["properties"]["key"] = {"title": key.get("title", "Key"), "anyOf": [
            {"type": "string"}, key]}
    return schema


def _describe(schema: dict) -> dict:
    for (definition, key), text in DESCRIPTIONS.items():
        target = schema if not definition else schema.get("$defs", {}).get(definition)
        if target and key in target.get("properties", {}):
            target["properties"][key]["description"] = text
    return schema


def _generated(kind: str, model: type, title: str, description: str) -> dict:
    schema = model.model_json_schema(by_alias=True)
    for name in LOADER_FIELDS:
        schema["properties"].pop(name, None)
    schema = {"$schema": SCHEMA_DIALECT, **schema, "title": title, "description": description}
    return _describe(_written_form(kind, schema))


def model_schema() -> dict:
    return _generated("model", ModelSpec, "lsm 法律监督模型 / lsm supervision model",
                      "一个模型文件：输入、中间关系、规则、评分与测试 / one model file (docs/authoring.md)")


def sources_schema() -> dict:
    return _generated("sources", Catalogue, "lsm 数据目录 / lsm source catalogue",
                      "各单位数据集的定义 / the agencies' datasets (docs/data-contract.md)")


SCHEMAS = {"model": model_schema, "sources": sources_schema}


def schema_text(kind: str) -> str:
    """The schema as committed: indented JSON, keys in the generated order, a final newline."""
    return json.dumps(SCHEMAS[kind](), ensure_ascii=False, indent=1) + "\n"


def first_line(kind: str) -> str:
    return f"# yaml-language-server: $schema={SCHEMA_FILES[kind]}"

"""The hostile corpus shared by the S1 tests: a model that uses every name slot, and payloads.

``BASE`` is a valid model touching every place a model file can name something that may reach SQL;
``NAME_SLOTS`` says how to put a payload into each; ``NAME_PAYLOADS`` are what an attacker (or a
careless analyst) writes there. Canary paths prove that nothing was read or written.
"""

from __future__ import annotations

import copy
import shutil
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent

BASE: dict = {
    "id": "hostile_probe",
    "version": "1",
    "title": {"zh": "探针模型"},
    "legal_basis": {"citation": "测试"},
    "subject_type": "person",
    "parameters": {"min_amount": {"default": 0}},
    "inputs": {
        "spells": {"dataset": "prison_roster", "where": "id_number_valid"},
        "payments": {"dataset": "dibao_payments", "where": "amount >= ${min_amount}"},
    },
    "tables": {"bands": {"columns": {"band": "text", "low": "amount"}, "rows": [["小额", 0], ["大额", 1000]]}},
    "relations": {
        "custody": {"merge_intervals": {"from": "spells", "key": "id_number", "start": "admitted_on",
                                        "end": "released_on", "carry": {"who": "any_value(spells.person_name)"}}},
        "people": {"from": "spells", "group_by": ["spells.id_number", "spells.person_name"],
                   "select": {"id_number": "spells.id_number", "person_name": "spells.person_name"}},
        "typos": {"match": {"left": "payments", "right": "people", "block": [["person_name"]],
                            "compare": [{"field": "id_number", "method": "id_cn"},
                                        {"left": "payments.person_name", "right": "people.person_name",
                                         "name": "nm", "method": "exact"}],
                            "accept": "id_number_level = 'one_edit'", "unique": True,
                            "select": {"id_number": "people.id_number"}}},
        "owned": {"from": "payments", "join": [{"to": "typos", "alias": "t", "kind": "left",
                                                 "on": "t._rid = payments._rid"}],
                  "extend": {"owner_id": "coalesce(t.id_number, payments.id_number)"}},
        "both": {"union": ["people", "custody"]},
    },
    "rules": [{
        "id": "default",
        "from": "owned",
        "join": [{"to": "custody", "alias": "c", "on": "c.id_number = owned.owner_id"},
                 {"to": "bands", "alias": "b", "on": "owned.amount >= b.low"}],
        "where": "month_strictly_inside(owned.pay_month, c.start, c.\"end\")",
        "distinct_on": None,
        "clue": {"subject_id": "owned.owner_id", "subject_name": "any_value(c.who)",
                 "amount": "sum(owned.amount)", "values": {"months": "count(DISTINCT owned.pay_month)"},
                 "summary": "{subject_name} {months}",
                 "evidence": {"rows": ["owned", "c"], "values": {"bands": "list(DISTINCT b.band)"}}},
        "score": {"signals": {"money": {"value": "amount", "scale": "max", "weight": 1}},
                  "rank_by": ["amount DESC"]},
    }],
    "test_defaults": {"dibao_payments": {"household_id": "H1", "county": "锦江区", "amount": "500"}},
    "tests": [{"name": "probe", "as_of": "2024-06-30",
               "given": {"prison_roster": [{"person_name": "张伟", "id_number": "510104199001010019",
                                            "custody_type": "已决", "admitted_on": "2023-01-10",
                                            "gender": "男", "birth_date": "1990-01-01", "facility": "成都监狱",
                                            "sentence": "有期徒刑"}],
                         "dibao_payments": [{"payment_id": "P1", "person_name": "张伟",
                                             "id_number": "510104199001010019", "pay_month": "2023-05"}]},
               "expect": [{"subject_id": "510104199001010019", "amount": 500}]}],
}


def _rename(mapping: dict, old: str, new: str) -> None:
    items = list(mapping.items())
    mapping.clear()
    mapping.update({(new if k == old else k): v for k, v in items})


def _rule(m: dict) -> dict:
    return m["rules"][0]


# slot name -> a function putting the payload there (and everywhere the name is referred to)
NAME_SLOTS = {
    "model id": lambda m, p: m.__setitem__("id", p),
    "input name": lambda m, p: _rename(m["inputs"], "payments", p),
    "input dataset": lambda m, p: m["inputs"]["payments"].__setitem__("dataset", p),
    "lookup table name": lambda m, p: _rename(m["tables"], "bands", p),
    "lookup table column": lambda m, p: _rename(m["tables"]["bands"]["columns"], "low", p),
    "relation name": lambda m, p: _rename(m["relations"], "owned", p),
    "select key": lambda m, p: _rename(m["relations"]["people"]["select"], "person_name", p),
    "extend key": lambda m, p: _rename(m["relations"]["owned"]["extend"], "owner_id", p),
    "carry key": lambda m, p: _rename(m["relations"]["custody"]["merge_intervals"]["carry"], "who", p),
    "merge from": lambda m, p: m["relations"]["custody"]["merge_intervals"].__setitem__("from", p),
    "join to": lambda m, p: m["relations"]["owned"]["join"][0].__setitem__("to", p),
    "join alias": lambda m, p: m["relations"]["owned"]["join"][0].__setitem__("alias", p),
    "match left": lambda m, p: m["relations"]["typos"]["match"].__setitem__("left", p),
    "match block column": lambda m, p: m["relations"]["typos"]["match"].__setitem__("block", [[p]]),
    "comparison name": lambda m, p: m["relations"]["typos"]["match"]["compare"][1].__setitem__("name", p),
    "comparison field": lambda m, p: m["relations"]["typos"]["match"]["compare"][0].__setitem__("field", p),
    "match select key": lambda m, p: _rename(m["relations"]["typos"]["match"]["select"], "id_number", p),
    "union part": lambda m, p: m["relations"]["both"].__setitem__("union", ["people", p]),
    "rule id": lambda m, p: _rule(m).__setitem__("id", p),
    "rule from": lambda m, p: _rule(m).__setitem__("from", p),
    "rule join alias": lambda m, p: _rule(m)["join"][0].__setitem__("alias", p),
    "distinct_on": lambda m, p: _rule(m).__setitem__("distinct_on", p),
    "clue value key": lambda m, p: _rename(_rule(m)["clue"]["values"], "months", p),
    "evidence row": lambda m, p: _rule(m)["clue"]["evidence"].__setitem__("rows", ["owned", p]),
    "evidence value key": lambda m, p: _rename(_rule(m)["clue"]["evidence"]["values"], "bands", p),
    "signal name": lambda m, p: _rename(_rule(m)["score"]["signals"], "money", p),
    "parameter name": lambda m, p: _rename(m["parameters"], "min_amount", p),
    "test given dataset": lambda m, p: _rename(m["tests"][0]["given"], "dibao_payments", p),
    "test given column": lambda m, p: _rename(m["tests"][0]["given"]["dibao_payments"][0], "payment_id", p),
    "test_defaults dataset": lambda m, p: _rename(m["test_defaults"], "dibao_payments", p),
    "expected rule": lambda m, p: m["tests"][0]["expect"][0].__setitem__("rule", p),
    "template": lambda m, p: m.__setitem__("extends", p),
}

CANARY = Path("/tmp/lsm-s1-canary.txt")
NAME_PAYLOADS = [
    f"1; COPY (SELECT content FROM read_text('/etc/hostname')) TO '{CANARY}' (HEADER false, QUOTE ''); "
    f"SELECT 'none' AS none",
    f"x\"; COPY (SELECT 1) TO '{CANARY}'; --",
    f"x'); ATTACH '{CANARY}.db' AS a; --",
    "a--b",
    "a b",
    "a;b",
    "Upper",
    "1starts_with_digit",
    "名称",
    "x" * 64,
    "../../../../etc/passwd",
    "line\nbreak",
]


def model_yaml(model: dict) -> str:
    return yaml.safe_dump(model, allow_unicode=True, sort_keys=False)


def with_payload(slot: str, payload: str) -> dict:
    model = copy.deepcopy(BASE)
    NAME_SLOTS[slot](model, payload)
    return model


def models_dir(root: Path, files: dict[str, str]) -> Path:
    """A models directory with the repository's catalogue and the given model files."""
    folder = root / "models"
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "models" / "sources.yaml", folder / "sources.yaml")
    shutil.copytree(REPO / "models" / "templates", folder / "templates", dirs_exist_ok=True)
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text, encoding="utf-8")
    return folder

"""docs/authoring.md stays true: its allowed-function examples pass the sandbox and cover the whole
allow-list, its domain-function table names every domain function, and every error message it quotes is
exactly what a fixture under tests/fixtures/invalid/ produces (test_golden_plans.py checks those)."""

from __future__ import annotations

import re

import pytest
import sqlglot
from conftest import REPO
from sqlglot import exp

from engine.compile.expressions import (
    AGGREGATES,
    DOMAIN,
    NAMED_ANONYMOUS,
    SCALAR_FUNCTIONS,
    Level,
    Scope,
    check,
)

DOC = (REPO / "docs" / "authoring.md").read_text(encoding="utf-8")
FIXTURES = REPO / "tests" / "fixtures" / "invalid"
SCOPE = Scope({"t": {"x", "y", "n", "d", "e", "xs"}})


def section(title: str) -> str:
    start = DOC.index(f"\n## {title}\n")
    end = DOC.find("\n## ", start + 1)
    return DOC[start:end if end > 0 else None]


def examples() -> list[tuple[str, Level]]:
    """(example, level) for every backquoted example of the allowed-functions table."""
    found = []
    for line in section("Allowed functions").splitlines():
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]]
        if len(cells) == 3 and cells[1] in ("row", "group"):
            level = Level.ROW if cells[1] == "row" else Level.GROUP
            found += [(code.replace("\\|", "|"), level) for code in re.findall(r"`([^`]+)`", cells[0])]
    return found


EXAMPLES = examples()


@pytest.mark.parametrize(("example", "level"), EXAMPLES, ids=[e for e, _ in EXAMPLES])
def test_every_documented_function_example_passes_the_sandbox(example, level):
    check(example, SCOPE, level)


def test_the_documented_examples_cover_the_whole_allow_list():
    used: set[type] = set()
    anonymous: set[str] = set()
    for example, level in EXAMPLES:
        tree = check(example, SCOPE, level)
        written = sqlglot.parse_one(example, read="duckdb")  # before the sandbox rewrites (any_value → min)
        used |= {type(node) for node in (*tree.walk(), *written.walk())}
        anonymous |= {node.name.lower() for node in tree.find_all(exp.Anonymous)}
    missing = [cls.__name__ for cls in (*AGGREGATES, *SCALAR_FUNCTIONS) if cls not in used]
    assert not missing, f"allowed but not documented in docs/authoring.md: {missing}"
    assert anonymous | {"to_json"} >= NAMED_ANONYMOUS, NAMED_ANONYMOUS - anonymous


def test_a_function_outside_the_allow_list_is_refused_as_the_doc_says():
    with pytest.raises(Exception, match=r"function getenv\(\) is not allowed"):
        check("getenv('HOME') IS NOT NULL", SCOPE, Level.ROW)


def test_the_domain_function_table_names_every_domain_function():
    table = section("Domain functions (they read like the law)")
    missing = [name for name in DOMAIN.functions if f"`{name}(" not in table]
    assert not missing, missing


def test_every_quoted_message_is_what_its_fixture_produces():
    quoted = re.findall(r"^(invalid/([a-z_]+)\.yaml:\d+:\d+: .+)$", section("Common mistakes and their messages"), re.M)
    assert len(quoted) >= 15
    for line, case in quoted:
        expected = (FIXTURES / f"{case}.expected").read_text(encoding="utf-8").splitlines()
        assert line in expected, f"docs/authoring.md quotes for {case}:\n{line}\nbut the fixture gives:\n{expected}"


def test_the_doc_mentions_every_invalid_fixture():
    text = section("Common mistakes and their messages")
    missing = [p.stem for p in sorted(FIXTURES.glob("*.yaml")) if f"{p.stem}.yaml" not in text]
    assert not missing, missing

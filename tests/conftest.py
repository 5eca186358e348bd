from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from engine.catalog import load_catalogue  # noqa: E402


@pytest.fixture(scope="session")
def catalogue():
    return load_catalogue(REPO / "models" / "sources.yaml")


@pytest.fixture(scope="session")
def org_rules(catalogue):
    return catalogue.org_name.rules()

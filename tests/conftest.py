from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from pgserver import PgServer  # noqa: E402

from engine.ingest.normalize.orgs import OrgKeyRules  # noqa: E402
from engine.spec.catalog import load_catalogue  # noqa: E402


@pytest.fixture(scope="session")
def catalogue():
    return load_catalogue(REPO / "models" / "sources.yaml")


@pytest.fixture(scope="session")
def org_rules(catalogue):
    return OrgKeyRules.of(catalogue.org_name)


LSM = Path(sys.executable).parent / "lsm"
SAMPLE_AS_OF = "2024-06-30"


def run_lsm(*args: str, cwd: Path | None = None, timeout: int = 600, env: dict | None = None
            ) -> subprocess.CompletedProcess:
    """``lsm`` as a subprocess; ``env``: variables added to this process's environment."""
    environ = {**os.environ, **env} if env is not None else None
    return subprocess.run([str(LSM), *args], capture_output=True, text=True, cwd=cwd, timeout=timeout, check=False,
                          env=environ)


@pytest.fixture(scope="session")
def sample_root(tmp_path_factory):
    from sample_data.generate import generate

    root = tmp_path_factory.mktemp("sample") / "data"
    generate(root, seed=20240630)
    return root


@pytest.fixture(scope="session")
def sample_run(sample_root, tmp_path_factory):
    """One real `lsm run --json` over the default sample data; (runs dir, run dir, json, truth)."""
    out = tmp_path_factory.mktemp("runs")
    proc = run_lsm("run", "--data", str(sample_root), "--out", str(out), "--as-of", SAMPLE_AS_OF, "--json")
    assert proc.returncode == 0, proc.stderr
    payload = json.loads(proc.stdout)
    truth = json.loads((sample_root / "truth.json").read_text(encoding="utf-8"))
    return out, Path(payload["run_dir"]), payload, truth


@pytest.fixture(scope="session")
def postgres_server():
    """A throwaway PostgreSQL server for the whole session (tests/pgserver.py); fails loudly when
    PostgreSQL is not installed — a missing server is a failure, never a skip."""
    server = PgServer.start()
    yield server
    server.stop()


def pytest_addoption(parser):
    parser.addoption("--update-goldens", action="store_true", default=False,
                     help="rewrite the golden plan fixtures (tests/fixtures) from the current compiler")


@pytest.fixture
def update_goldens(request) -> bool:
    return request.config.getoption("--update-goldens")


@pytest.fixture(scope="session")
def spark_session(tmp_path_factory):
    """One local Spark session for the tests that need it (Java 17; SPARK_LOCAL_IP=127.0.0.1)."""
    from engine.execute.spark_backend import SparkBackend  # imported only where Spark is used: it is slow

    backend = SparkBackend.start(None, tmp_path_factory.mktemp("spark"), threads=2)
    yield backend.spark
    backend.spark.stop()

from __future__ import annotations

import uuid

import pytest

from engine.review.store import open_store


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request, tmp_path):
    """A fresh, empty store URL: a SQLite file, or a new database on the throwaway PostgreSQL server."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'review.db'}"
    server = request.getfixturevalue("postgres_server")
    name = "review_" + uuid.uuid4().hex[:12]
    server.create_database(name)
    return server.dsn(name)


@pytest.fixture
def store(store_url):
    handle = open_store(store_url)
    yield handle
    handle.dispose()

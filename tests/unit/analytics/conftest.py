"""Analytics tests run on SQLite (a temp file) and on a real PostgreSQL (as the handoff
tests: HANDOFF_TEST_PG_URL or a throwaway server; skipped locally without one)."""

from __future__ import annotations

import pytest

from tests.support.pg import fresh_pg_database, pg_server_url  # noqa: F401  (fixture)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'handoff.db'}"
        return
    yield from fresh_pg_database(request.getfixturevalue("pg_server_url"))


@pytest.fixture
def engine(db_url):
    from assistant.handoff.db import make_engine

    e = make_engine(db_url)
    yield e
    e.dispose()

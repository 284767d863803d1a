"""Analytics tests run on SQLite (a temp file) and on a real PostgreSQL (as the handoff
tests: HANDOFF_TEST_PG_URL or a throwaway server; skipped locally without one)."""

from __future__ import annotations

import pytest

from tests.support.pg import db_url, pg_server_url  # noqa: F401  (fixtures)


@pytest.fixture
def engine(db_url):
    from assistant.handoff.db import make_engine

    e = make_engine(db_url)
    yield e
    e.dispose()

"""Fixtures for the live console's tests: the handoff database on SQLite (a temp file)
and PostgreSQL (HANDOFF_TEST_PG_URL or a throwaway server; as tests/unit/handoff/)."""

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
def store(db_url):
    from assistant.handoff.tickets import TicketStore

    s = TicketStore(db_url)
    yield s
    s.dispose()


@pytest.fixture
def agents(store):
    from assistant.livechat.agents import AgentDirectory

    return AgentDirectory(store.engine)

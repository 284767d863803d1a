"""Fixtures for the live console's tests: the handoff database on SQLite (a temp file)
and PostgreSQL (HANDOFF_TEST_PG_URL or a throwaway server; as tests/unit/handoff/)."""

from __future__ import annotations

import pytest

from tests.support.pg import db_url, pg_server_url, store  # noqa: F401  (fixtures)


@pytest.fixture
def agents(store):
    from assistant.livechat.agents import AgentDirectory

    return AgentDirectory(store.engine)

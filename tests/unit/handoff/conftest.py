"""Fixtures for the handoff tests: real databases and a real HTTP receiver.

``db_url`` runs each test on SQLite (a temp file) and on PostgreSQL:
HANDOFF_TEST_PG_URL if set, otherwise a throwaway server started once per
session by scripts/pg_test_server.sh. Without PostgreSQL the PostgreSQL half
is skipped locally and fails when CI is set.
"""

from __future__ import annotations

import pytest

from tests.support.pg import fresh_pg_database, pg_server_url  # noqa: F401  (fixture)
from tests.support.receiver import Receiver, wait_until


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
def deliveries(store):
    from assistant.handoff.delivery import DeliveryQueue

    return DeliveryQueue(store)


# --------------------------------------------------------------------------
# A real HTTP receiver on 127.0.0.1


@pytest.fixture
def receiver():
    r = Receiver().start()
    yield r
    r.stop()


@pytest.fixture
def down_receiver():
    """A receiver whose port is closed (connection refused) until start()."""
    r = Receiver()
    yield r
    r.stop()


@pytest.fixture
def wait():
    return wait_until

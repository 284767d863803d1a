"""Fixtures for the handoff tests: real databases and a real HTTP receiver.

``db_url`` runs each test on SQLite (a temp file) and on PostgreSQL:
HANDOFF_TEST_PG_URL if set, otherwise a throwaway server started once per
session by scripts/pg_test_server.sh. Without PostgreSQL the PostgreSQL half
is skipped locally and fails when CI is set.
"""

from __future__ import annotations

import pytest

from tests.support.pg import db_url, pg_server_url, store  # noqa: F401  (fixtures)
from tests.support.receiver import Receiver, wait_until


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

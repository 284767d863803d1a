"""Fixtures of the scale-out tests: a throwaway redis-server (no persistence) on a
free loopback port. Skipped locally without redis-server, failed in CI."""

from __future__ import annotations

import pytest

from devtools.launch import start_redis
from tests.support.ci import unavailable


@pytest.fixture(scope="session")
def redis_port(tmp_path_factory):
    try:
        proc, port = start_redis(tmp_path_factory.mktemp("redis"))
    except FileNotFoundError as exc:
        unavailable(str(exc))
    yield port
    proc.stop()

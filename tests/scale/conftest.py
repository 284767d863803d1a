"""Fixtures of the scale-out tests: a throwaway redis-server (no persistence) on a
free loopback port. Skipped locally without redis-server, failed in CI."""
from __future__ import annotations

import shutil
import subprocess
import time

import pytest

from rasa_runtime.launch import free_port
from tests.support.ci import unavailable


@pytest.fixture(scope="session")
def redis_port(tmp_path_factory):
    binary = shutil.which("redis-server")
    if not binary:
        unavailable("redis-server not installed (scripts/install_scale_services.sh)")
    port = free_port()
    workdir = tmp_path_factory.mktemp("redis")
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(workdir)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    import redis

    client = redis.Redis(port=port)
    for _ in range(100):
        try:
            client.ping()
            break
        except redis.ConnectionError:
            time.sleep(0.1)
    yield port
    proc.terminate()
    proc.wait(10)

"""A real PostgreSQL server for tests: HANDOFF_TEST_PG_URL if set, otherwise a
throwaway server started once per session by scripts/pg_test_server.sh. Without
PostgreSQL the tests that need it are skipped locally and fail when CI is set."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from tests.support.ci import unavailable

REPO = Path(__file__).resolve().parents[2]
PG_SCRIPT = REPO / "scripts" / "pg_test_server.sh"


def _cleanup_state(state_dir: str) -> None:
    shutil.rmtree(state_dir, ignore_errors=True)
    Path(state_dir + ".lock").unlink(missing_ok=True)  # the script's lock file


@pytest.fixture(scope="session")
def pg_server_url():
    """Admin URL of a PostgreSQL server for this session."""
    given = os.environ.get("HANDOFF_TEST_PG_URL")
    if given:
        yield given
        return
    state_dir = tempfile.mkdtemp(prefix="handoff-pg-")  # own server: stop can't hit others
    env = dict(os.environ, PG_TEST_DIR=state_dir)
    try:
        proc = subprocess.run(
            ["bash", str(PG_SCRIPT), "start"], env=env, capture_output=True, text=True, timeout=600
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        _cleanup_state(state_dir)
        unavailable(f"PostgreSQL unavailable: {exc}")
    if proc.returncode != 0 or not proc.stdout.strip():
        subprocess.run(["bash", str(PG_SCRIPT), "stop"], env=env, capture_output=True, timeout=120)
        _cleanup_state(state_dir)
        unavailable(
            f"PostgreSQL unavailable: {PG_SCRIPT.name} start failed: {proc.stderr.strip()[-2000:]}"
        )
    try:
        yield proc.stdout.strip().splitlines()[-1]
    finally:
        subprocess.run(["bash", str(PG_SCRIPT), "stop"], env=env, capture_output=True, timeout=120)
        _cleanup_state(state_dir)


def fresh_pg_database(server_url: str):
    """A new empty database per test; falls back to wiping the tables when
    the server account may not create databases."""
    admin = create_engine(server_url, future=True, isolation_level="AUTOCOMMIT")
    name = f"handoff_t_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except DBAPIError:  # e.g. no CREATEDB privilege
        from assistant.handoff.schema import metadata

        admin.dispose()
        engine = create_engine(server_url, future=True)
        metadata.drop_all(engine)
        engine.dispose()
        yield server_url
        return
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    """Each test on SQLite (a temp file) and on PostgreSQL (a fresh database)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'handoff.db'}"
        return
    yield from fresh_pg_database(request.getfixturevalue("pg_server_url"))


@pytest.fixture
def store(db_url):
    """The handoff database's ticket store on ``db_url``."""
    from assistant.handoff.tickets import TicketStore

    s = TicketStore(db_url)
    yield s
    s.dispose()

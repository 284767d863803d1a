"""Fixtures for the handoff tests: real databases and a real HTTP receiver.

``db_url`` runs each test on SQLite (a temp file) and on PostgreSQL:
HANDOFF_TEST_PG_URL if set, otherwise a throwaway server started once per
session by scripts/pg_test_server.sh. Without PostgreSQL the PostgreSQL half
is skipped locally and fails when CI is set.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

REPO = Path(__file__).resolve().parents[3]
PG_SCRIPT = REPO / "scripts" / "pg_test_server.sh"


def _cleanup_state(state_dir: str) -> None:
    shutil.rmtree(state_dir, ignore_errors=True)
    Path(state_dir + ".lock").unlink(missing_ok=True)  # the script's lock file


def _pg_unavailable(reason: str):
    if os.environ.get("CI"):
        pytest.fail(f"PostgreSQL required in CI: {reason}", pytrace=False)
    pytest.skip(f"PostgreSQL unavailable: {reason}")


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
        _pg_unavailable(str(exc))
    if proc.returncode != 0 or not proc.stdout.strip():
        subprocess.run(["bash", str(PG_SCRIPT), "stop"], env=env, capture_output=True, timeout=120)
        _cleanup_state(state_dir)
        _pg_unavailable(f"{PG_SCRIPT.name} start failed: {proc.stderr.strip()[-2000:]}")
    try:
        yield proc.stdout.strip().splitlines()[-1]
    finally:
        subprocess.run(["bash", str(PG_SCRIPT), "stop"], env=env, capture_output=True, timeout=120)
        _cleanup_state(state_dir)


def _fresh_pg_database(server_url: str):
    """A new empty database per test; falls back to wiping the tables when
    the server account may not create databases."""
    admin = create_engine(server_url, future=True, isolation_level="AUTOCOMMIT")
    name = f"handoff_t_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except Exception:
        from assistant.handoff.tickets import metadata

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
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'handoff.db'}"
        return
    yield from _fresh_pg_database(request.getfixturevalue("pg_server_url"))


@pytest.fixture
def store(db_url):
    from assistant.handoff.tickets import TicketStore

    s = TicketStore(db_url)
    yield s
    s.dispose()


# --------------------------------------------------------------------------
# A real HTTP receiver on 127.0.0.1


class Receiver:
    """Records POSTs. ``status`` and ``delay`` can be changed while running;
    ``stop()`` and ``start()`` bring it down and back up on the same port."""

    def __init__(self):
        self.requests: list[dict] = []
        self.status = 200
        self.delay = 0.0
        self._server: ThreadingHTTPServer | None = None
        self._lock = threading.Lock()
        self.port = self._free_port()

    @staticmethod
    def _free_port() -> int:
        import socket

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            return s.getsockname()[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def start(self) -> "Receiver":
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if receiver.delay:
                    time.sleep(receiver.delay)
                with receiver._lock:
                    receiver.requests.append(
                        {"path": self.path, "headers": dict(self.headers), "body": json.loads(body)}
                    )
                self.send_response(receiver.status)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):  # keep test output clean
                pass

        ThreadingHTTPServer.allow_reuse_address = True
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def bodies(self) -> list[dict]:
        with self._lock:
            return [r["body"] for r in self.requests]

    def ticket_ids(self) -> list[str]:
        out = []
        for b in self.bodies():
            out.append(b["ticket"]["id"] if "ticket" in b else b["text"].split()[1])
        return out


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


def wait_until(predicate, timeout: float = 10.0, interval: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


@pytest.fixture
def wait():
    return wait_until

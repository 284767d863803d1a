"""FastSQLTrackerStore (rasa_runtime/tracker_store.py) writes and reads what Rasa's
SQLTrackerStore writes and reads: same rows, same latest-session view, both ways, and
it is what endpoints.yml really creates (a wrong `type` would silently fall back to
an in-memory store that loses every conversation on restart)."""

from __future__ import annotations

import asyncio
import sqlite3
import tempfile
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy
from rasa.core.tracker_store import SQLTrackerStore, TrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    BotUttered,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import read_endpoint_config

from rasa_runtime.tracker_store import FastSQLTrackerStore
from tests.support.pg import fresh_pg_database, pg_server_url  # noqa: F401  (fixture)

REPO = Path(__file__).resolve().parents[2]
DOMAIN = Domain.load(str(REPO / "domain.yml"))


def run(coro):
    return asyncio.run(coro)


def store(cls, path: Path):
    return cls(domain=DOMAIN, dialect="sqlite", db=str(path))


def turn(tracker: DialogueStateTracker, text: str, t: float) -> None:
    parse: dict[str, Any] = {"intent": {"name": "define_term", "confidence": 0.9}, "text": text}
    tracker.update(UserUttered(text, parse["intent"], parse_data=parse, timestamp=t))  # type: ignore[arg-type]
    tracker.update(ActionExecuted("action_route", timestamp=t + 0.1))
    tracker.update(BotUttered("答え", {"custom": {"kind": "definition"}}, timestamp=t + 0.2))
    tracker.update(SlotSet("failed_turns", 0, timestamp=t + 0.3))
    tracker.update(ActionExecuted("action_listen", timestamp=t + 0.4))


def conversation(sender: str) -> DialogueStateTracker:
    tracker = DialogueStateTracker(sender, DOMAIN.slots)
    tracker.update(ActionExecuted("action_session_start", timestamp=1.0))
    tracker.update(SessionStarted(timestamp=1.1))
    tracker.update(ActionExecuted("action_listen", timestamp=1.2))
    turn(tracker, "ACWとは?", 2.0)
    return tracker


def rows(path: Path) -> list[tuple]:
    with sqlite3.connect(path) as db:
        return db.execute(
            "SELECT sender_id, type_name, timestamp, intent_name, action_name, data"
            " FROM events ORDER BY id"
        ).fetchall()


def written_and_read(writer, reader, path: Path) -> list[dict]:
    tracker = conversation("u1")
    run(store(writer, path).save(tracker))
    turn(tracker, "SVとは?", 3.0)
    run(store(writer, path).save(tracker))  # only the new events are added
    assert run(store(reader, path).retrieve("nobody")) is None
    return [e.as_dict() for e in run(store(reader, path).retrieve("u1")).events]


@pytest.mark.parametrize("writer", [SQLTrackerStore, FastSQLTrackerStore])
@pytest.mark.parametrize("reader", [SQLTrackerStore, FastSQLTrackerStore])
def test_either_store_reads_what_the_other_wrote(tmp_path, writer, reader):
    """The oracle is Rasa's store writing and reading (the latest session starts at
    SessionStarted, so action_session_start before it is not part of it)."""
    expected = written_and_read(SQLTrackerStore, SQLTrackerStore, tmp_path / "rasa.db")
    got = written_and_read(writer, reader, tmp_path / "t.db")
    assert got == expected
    assert [e["event"] for e in got][:2] == ["session_started", "action"]


def test_rows_are_the_rows_rasa_writes(tmp_path):
    tracker = conversation("u2")
    turn(tracker, "オペレーターと話したい", 3.0)
    run(store(SQLTrackerStore, tmp_path / "rasa.db").save(tracker))
    run(store(FastSQLTrackerStore, tmp_path / "fast.db").save(tracker))
    assert rows(tmp_path / "fast.db") == rows(tmp_path / "rasa.db")


def two_sessions(cls, path: Path) -> DialogueStateTracker:
    db = store(cls, path)
    tracker = conversation("u3")
    run(db.save(tracker))
    tracker.update(ActionExecuted("action_session_start", timestamp=10.0))
    tracker.update(SessionStarted(timestamp=10.1))
    tracker.update(ActionExecuted("action_listen", timestamp=10.2))
    turn(tracker, "CRMとは?", 11.0)
    run(db.save(tracker))
    return run(db.retrieve("u3"))


def test_a_new_session_is_read_from_its_start(tmp_path):
    latest = two_sessions(FastSQLTrackerStore, tmp_path / "fast.db")
    expected = two_sessions(SQLTrackerStore, tmp_path / "rasa.db")
    assert [e.as_dict() for e in latest.events] == [e.as_dict() for e in expected.events]
    assert latest.events[0].timestamp == 10.1  # the new session only
    assert rows(tmp_path / "fast.db") == rows(tmp_path / "rasa.db")


def test_sqlite_database_is_in_wal_mode(tmp_path):
    path = tmp_path / "t.db"
    run(store(FastSQLTrackerStore, path).save(conversation("u4")))
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_endpoints_yml_creates_this_store(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # endpoints.yml's db path is relative: var/tracker.db
    monkeypatch.setenv("ACTION_ENDPOINT_URL", "http://127.0.0.1:5055/webhook")
    monkeypatch.setenv("ACTION_SERVER_TOKEN", "test-token")
    (tmp_path / "var").mkdir()
    config = read_endpoint_config(str(REPO / "endpoints.yml"), "tracker_store")
    created = TrackerStore.create(config, DOMAIN)
    inner = getattr(created, "_tracker_store", created)  # Rasa wraps it in FailSafeTrackerStore
    assert isinstance(inner, FastSQLTrackerStore)
    run(created.save(conversation("u5")))
    assert run(created.retrieve("u5")).latest_message.text == "ACWとは?"


# -- where Rasa's own tests found FastSQLTrackerStore behaving differently ------------


@pytest.mark.parametrize("db", [":memory:", ""])
@pytest.mark.parametrize("cls", [SQLTrackerStore, FastSQLTrackerStore])
def test_in_memory_sqlite_keeps_what_it_stored(cls, db):
    """Rasa's store works on an in-memory database (its tests use one); ours once
    failed with `no such table: events` (each pooled connection was a new database)."""
    memory = cls(domain=DOMAIN, dialect="sqlite", db=db)
    tracker = conversation("m1")
    run(memory.save(tracker))
    turn(tracker, "SVとは?", 3.0)
    run(memory.save(tracker))
    got = [e.as_dict() for e in run(memory.retrieve("m1")).events]
    assert got == written_and_read(
        SQLTrackerStore, SQLTrackerStore, Path(tempfile.mkdtemp()) / "r.db"
    )
    assert run(memory.retrieve("nobody")) is None


def test_two_in_memory_stores_are_two_databases():
    first = FastSQLTrackerStore(domain=DOMAIN, dialect="sqlite", db=":memory:")
    second = FastSQLTrackerStore(domain=DOMAIN, dialect="sqlite", db=":memory:")
    run(first.save(conversation("m2")))
    assert run(second.retrieve("m2")) is None
    assert run(first.retrieve("m2")) is not None


@pytest.fixture
def pg_url(pg_server_url):  # noqa: F811
    yield from fresh_pg_database(pg_server_url)


def pg_store(cls, url: str):
    """Configured as endpoints.postgres.yml does (dialect, host, port, … — Rasa's
    schema check looks for the plain `postgresql` driver name)."""
    u = sqlalchemy.engine.make_url(url)
    return cls(
        domain=DOMAIN,
        dialect="postgresql",
        host=u.host,
        port=u.port,
        username=u.username,
        password=u.password,
        db=u.database,
    )


@pytest.mark.parametrize("cls", [SQLTrackerStore, FastSQLTrackerStore])
def test_a_missing_postgresql_schema_stops_with_rasas_message(cls, pg_url, monkeypatch, capsys):
    monkeypatch.setenv("POSTGRESQL_SCHEMA", "no_such_schema")
    db = pg_store(cls, pg_url)
    with pytest.raises(SystemExit):
        run(db.save(conversation("p1")))
    assert "Requested PostgreSQL schema 'no_such_schema' was not found" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        run(db.retrieve("p1"))


@pytest.mark.parametrize("cls", [SQLTrackerStore, FastSQLTrackerStore])
def test_an_existing_postgresql_schema_holds_the_events(cls, pg_url, monkeypatch):
    admin = sqlalchemy.create_engine(pg_url)
    with admin.begin() as conn:
        conn.exec_driver_sql("CREATE SCHEMA IF NOT EXISTS tracker")
    monkeypatch.setenv("POSTGRESQL_SCHEMA", "tracker")
    db = pg_store(cls, pg_url)
    run(db.save(conversation("p2")))
    assert run(db.retrieve("p2")).latest_message.text == "ACWとは?"
    with admin.connect() as conn:
        count = conn.exec_driver_sql("SELECT count(*) FROM tracker.events").scalar()
    admin.dispose()
    assert count == len(conversation("p2").events)

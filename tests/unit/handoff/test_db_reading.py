"""Reads of the handoff database do not wait for a writer (SQLite, WAL + deferred BEGIN).

Every customer message reads who owns the conversation and the training state; with
``BEGIN IMMEDIATE`` on those reads they queued behind every writer and behind each
other. Here another connection holds the write lock (as a slow writer would) and the
reads must still answer at once, with what was committed before; writes still wait
for the lock (the ticket counter stays safe)."""

from __future__ import annotations

import sqlite3
import threading
import time

import pytest

from assistant.handoff.db import make_engine, reading
from assistant.handoff.tickets import TicketStore
from assistant.training.store import TrainingStore


@pytest.fixture
def db_path(tmp_path):
    return tmp_path / "handoff.db"


def hold_write_lock(path, seconds: float) -> threading.Thread:
    """Another process's writer: BEGIN IMMEDIATE and keep it for `seconds`."""
    started = threading.Event()

    def writer() -> None:
        con = sqlite3.connect(path, timeout=30, isolation_level=None)
        con.execute("BEGIN IMMEDIATE")
        started.set()
        time.sleep(seconds)
        con.execute("ROLLBACK")
        con.close()

    thread = threading.Thread(target=writer)
    thread.start()
    started.wait(5)
    return thread


def test_reads_answer_while_a_writer_holds_the_lock(db_path):
    store = TicketStore(f"sqlite:///{db_path}")
    ticket = store.create("u1", "rest", "explicit", "SVと話したい", None, [], [])
    store.claim(ticket.id, "sato", "佐藤")
    training = TrainingStore(store.engine)
    writer = hold_write_lock(db_path, 3.0)
    try:
        t0 = time.monotonic()
        assert store.owned_for_sender("u1").id == ticket.id
        assert store.open_for_sender("u1").id == ticket.id
        assert store.get(ticket.id).owner == "sato"
        store.change_marker()
        assert training.state("u1") is None
        assert time.monotonic() - t0 < 1.0  # did not wait for the 3 s writer
    finally:
        writer.join()
        store.dispose()


def test_writes_still_wait_for_the_lock(db_path):
    store = TicketStore(f"sqlite:///{db_path}")
    store.create("u0", "rest", "explicit", "x", None, [], [])
    writer = hold_write_lock(db_path, 1.5)
    try:
        t0 = time.monotonic()
        ticket = store.create("u2", "rest", "explicit", "オペレーターと話したい", None, [], [])
        assert time.monotonic() - t0 >= 1.0  # queued behind the writer, then succeeded
        assert store.get(ticket.id).sender_id == "u2"
    finally:
        writer.join()
        store.dispose()


def test_database_file_is_in_wal_mode(db_path):
    engine = make_engine(f"sqlite:///{db_path}")
    with reading(engine) as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    engine.dispose()

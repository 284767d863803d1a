"""Engine set-up for the handoff database (SQLite file or PostgreSQL).

Design notes
------------
* SQLite: every transaction is ``BEGIN IMMEDIATE``, i.e. writers are
  serialised by the file lock (documented SQLAlchemy recipe), which makes
  read-modify-write sequences such as the ticket id counter safe across
  threads and processes. Pure reads go through ``reading(engine)``: a plain
  (deferred) ``BEGIN`` that takes no write lock, and the file is in WAL mode, so
  the reads every customer message makes (who owns the conversation, training
  state) neither wait for writers nor for each other (measured: under 16
  concurrent REST clients half the action server's time was spent waiting on
  ``BEGIN IMMEDIATE`` for such reads).
* PostgreSQL: ``create_schema`` holds an advisory lock while creating the
  tables, so several workers starting on an empty database do not race.
* JSON columns are written with ``ensure_ascii=False``: readable Japanese in
  the database instead of ``\\uXXXX`` escapes.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import MetaData, create_engine, event, inspect
from sqlalchemy import text as sql_text
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.pool import QueuePool, StaticPool

from .schema import metadata

_DDL_LOCK_KEY = 0x48414E44  # arbitrary, "HAND"
# SQLite page cache per connection (KiB). SQLite's default is 2,000 KiB per connection;
# the database is small and read by sender on every message, so each pooled connection
# (up to 16, in Rasa and in the action server) cached all of it and grew with it: that
# was the action server's memory growth under traffic (docs/memory.md). The OS page
# cache keeps the file's hot pages anyway.
SQLITE_CACHE_KIB = 256


def _json_dumps(obj: Any) -> str:
    # Readable Japanese in the database instead of \\uXXXX escapes.
    return json.dumps(obj, ensure_ascii=False)


def make_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, future=True, pool_pre_ping=True, json_serializer=_json_dumps)

    database = parsed.database or ""
    in_memory = database in ("", ":memory:") or database.startswith("file::memory:")
    if in_memory:
        # One shared connection, otherwise every checkout is a new empty db.
        engine = create_engine(
            url,
            future=True,
            json_serializer=_json_dumps,
            poolclass=StaticPool,
            connect_args={"check_same_thread": False},
        )
    else:
        folder = os.path.dirname(os.path.abspath(database))
        os.makedirs(folder, exist_ok=True)
        engine = create_engine(
            url,
            future=True,
            json_serializer=_json_dumps,
            # SQLAlchemy 1.4 opens a new SQLite connection per checkout on a file
            # (NullPool): connect + pragmas were a fifth of the action server's time.
            poolclass=QueuePool,
            pool_size=4,
            max_overflow=12,
            connect_args={"timeout": 30, "check_same_thread": False},  # wait for the lock
        )

    # pysqlite's own transaction handling starts transactions late and lazily;
    # take control so that each transaction takes the write lock up front
    # (documented SQLAlchemy recipe). That serialises writers across processes
    # and makes the read-modify-write of the counter safe.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None
        dbapi_conn.execute("PRAGMA foreign_keys=ON")
        if not in_memory:
            dbapi_conn.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
        # Readers and the one writer do not block each other (kept in the file).
        if not in_memory:
            enable_wal(dbapi_conn)

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        if conn.get_execution_options().get(_READ_ONLY):
            conn.exec_driver_sql("BEGIN")
        else:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def enable_wal(dbapi_conn: Any, attempts: int = 200) -> None:
    """Switch a file database to WAL once. Several processes opening a new file at once
    race for the exclusive lock this takes, and SQLite answers "database is locked" at
    once instead of waiting out the busy timeout: retry briefly."""
    for attempt in range(attempts):
        try:
            mode = dbapi_conn.execute("PRAGMA journal_mode").fetchone()[0]
            if str(mode).lower() == "wal":
                return
            dbapi_conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or attempt == attempts - 1:
                raise
            time.sleep(0.05)


_READ_ONLY = "handoff_read_only"


@contextmanager
def reading(engine: Engine) -> Iterator[Connection]:
    """A connection for reads only: on SQLite its transaction takes no write lock.
    (Writes in it would still be refused by no one: use ``engine.begin()`` for those.)"""
    with engine.connect() as conn:
        conn.execution_options(**{_READ_ONLY: True})
        yield conn


def create_schema(engine: Engine) -> None:
    """Create the missing tables of every module that declares one on the handoff
    database (tables.py; existing tables are kept)."""
    from .tables import metadatas  # those modules import this one

    metas = metadatas()
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            # Several workers starting on an empty database would race on
            # CREATE TABLE; serialise them (lock ends with the transaction).
            conn.execute(sql_text("SELECT pg_advisory_xact_lock(:key)"), {"key": _DDL_LOCK_KEY})
        for meta in metas:
            meta.create_all(conn)
            add_missing_columns(conn, meta)


def add_missing_columns(conn: Connection, meta: MetaData = metadata) -> None:
    """Add columns that later versions added to existing tables. Such columns are
    always nullable, so ``ALTER TABLE … ADD COLUMN`` is all an old database needs."""
    inspector = inspect(conn)
    for table in meta.sorted_tables:
        have = {c["name"] for c in inspector.get_columns(table.name)}
        for column in table.columns:
            if column.name not in have:
                assert column.nullable, f"{table.name}.{column.name}: a new column must be nullable"
                kind = column.type.compile(dialect=conn.dialect)
                conn.execute(
                    sql_text(f'ALTER TABLE {table.name} ADD COLUMN "{column.name}" {kind}')
                )

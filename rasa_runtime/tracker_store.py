"""Rasa's SQL tracker store with cheaper reads and writes (same table, same rows).

Measured with py-spy on a single-client REST load (README, Measurements): Rasa 3.6's
`SQLTrackerStore.save` was ~37 % of the Rasa process's busy time — an ORM `count()`
of the stored events (query building and SQLAlchemy's cache-key walk on every call),
one ORM object per new event, the unit-of-work flush, and on SQLite a journal
rewrite + fsync per commit; `retrieve` built ORM objects only to read one column.

Here the same statements are plain SQL with bound parameters: one count, one
executemany insert in one transaction, and a select of the `data` column. On SQLite
the database is put in WAL mode (readers do not block the writer; one fsync per
commit at checkpoint time with synchronous=NORMAL: an application crash loses
nothing committed, a power cut can lose the last commits, never corrupt the file).
PostgreSQL keeps its own settings. Rows are written exactly as Rasa writes them, so
Rasa's own store, `rasa export` and the tests' tracker reader read them unchanged.

As in Rasa's store: an in-memory SQLite database (`db: ":memory:"` or empty) works —
one connection shared by every checkout (StaticPool), since each new connection to
`:memory:` would be a new empty database — and with POSTGRESQL_SCHEMA set the first
read or write checks that the schema exists (Rasa's `ensure_schema_exists`, same
message, the process exits), instead of failing later on a missing table.

Use: `tracker_store: {type: rasa_runtime.tracker_store.FastSQLTrackerStore, ...}` with
SQLTrackerStore's options (endpoints.yml, endpoints.postgres.yml).
"""

from __future__ import annotations

import json
import logging
from typing import Any

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY

from assistant.handoff.db import enable_wal
from rasa_runtime import rasa_version

logger = logging.getLogger(__name__)

# The latest conversation session: events from the last session_started on (all events
# when there is none) — Rasa's `_event_query(fetch_events_from_all_sessions=False)`.
_LATEST_SESSION = (
    "FROM events WHERE sender_id = :sender AND ("
    " timestamp >= (SELECT max(timestamp) FROM events"
    "  WHERE sender_id = :sender AND type_name = :session_started)"
    " OR (SELECT max(timestamp) FROM events"
    "  WHERE sender_id = :sender AND type_name = :session_started) IS NULL)"
)
COUNT_LATEST = sa.text(f"SELECT count(*) {_LATEST_SESSION}")
DATA_LATEST = sa.text(f"SELECT data {_LATEST_SESSION} ORDER BY id")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    enable_wal(dbapi_connection)
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def is_sqlite_memory(url: Any) -> bool:
    """An SQLite URL whose database lives in the connection (`sqlite://`,
    `sqlite:///:memory:`, `file:…?mode=memory`)."""
    url = sa.engine.make_url(url)
    database = url.database or ""
    return (
        database in ("", ":memory:")
        or "mode=memory" in database
        or (url.query.get("mode") == "memory")
    )


class FastSQLTrackerStore(SQLTrackerStore):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        rasa_version.check("rasa_runtime.tracker_store.FastSQLTrackerStore")
        super().__init__(*args, **kwargs)
        self._schema_checked = False
        if self.engine.dialect.name == "sqlite":
            url = self.engine.url
            self.engine.dispose()
            if is_sqlite_memory(url):
                # The database lives as long as its connection: one, shared.
                self.engine = sa.create_engine(
                    url,
                    poolclass=sa.pool.StaticPool,
                    connect_args={"check_same_thread": False},
                )
                self.Base.metadata.create_all(self.engine)
            else:
                # SQLAlchemy 1.4 opens a new SQLite connection per session (NullPool) and
                # SQLite rereads the schema on each: keep a few open instead.
                self.engine = sa.create_engine(
                    url,
                    poolclass=sa.pool.QueuePool,
                    pool_size=4,
                    connect_args={"check_same_thread": False},
                )
                sa.event.listen(self.engine, "connect", _sqlite_pragmas)
            self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)
        self._events = self.SQLEvent.__table__

    def _ensure_schema(self) -> None:
        """Rasa checks POSTGRESQL_SCHEMA in every `session_scope`; the check's answer
        cannot change while the server runs, so once is enough (a missing schema
        exits with Rasa's message, as Rasa's store does on its first use)."""
        if self._schema_checked:
            return
        with self.session_scope():  # Rasa's store checks the schema here
            pass
        self._schema_checked = True

    def _params(self, sender_id: str) -> dict:
        return {"sender": sender_id, "session_started": SessionStarted.type_name}

    async def save(self, tracker: DialogueStateTracker) -> None:
        await self.stream_events(tracker)
        self._ensure_schema()
        with self.engine.begin() as connection:
            stored = connection.execute(COUNT_LATEST, self._params(tracker.sender_id)).scalar()
            rows = []
            for event in list(tracker.events)[int(stored or 0) :]:
                data = event.as_dict()
                rows.append(
                    {
                        "sender_id": tracker.sender_id,
                        "type_name": event.type_name,
                        "timestamp": data.get("timestamp"),
                        "intent_name": data.get("parse_data", {})
                        .get("intent", {})
                        .get(INTENT_NAME_KEY),
                        "action_name": data.get("name"),
                        "data": json.dumps(data),
                    }
                )
            if rows:
                connection.execute(self._events.insert(), rows)
        logger.debug(f"Tracker with sender_id '{tracker.sender_id}' stored to database")

    async def _retrieve(
        self, sender_id: str, fetch_events_from_all_sessions: bool
    ) -> DialogueStateTracker | None:
        if fetch_events_from_all_sessions:
            return await super()._retrieve(sender_id, fetch_events_from_all_sessions)
        self._ensure_schema()
        with self.engine.connect() as connection:
            rows = connection.execute(DATA_LATEST, self._params(sender_id)).fetchall()
        events = [json.loads(data) for (data,) in rows]
        if self.domain and events:
            return DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)
        return None

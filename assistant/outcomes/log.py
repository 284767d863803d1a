"""The outcome log's table (in the handoff database) and its writer.

The writer keeps the turn fast: ``record`` only appends to an in-memory queue (a
``collections.deque``, thread-safe for append/popleft); a daemon thread inserts what
has queued every ``flush_seconds`` (or sooner when ``batch`` rows wait) in one
multi-row INSERT. A failed insert is retried on the next round; past ``max_queue``
waiting rows new records are dropped and counted (the bot never waits for the log).
Rows still queued are written at interpreter exit (``atexit``).

Settings (env): ``OUTCOME_LOG`` = ``off`` disables the log; ``OUTCOME_FLUSH_SECONDS``
(default 1.0).
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
from collections import deque
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import (
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    SmallInteger,
    String,
    Table,
    Text,
    delete,
    func,
    insert,
    select,
)
from sqlalchemy.engine import Engine

from ..handoff.db import create_schema, reading
from ..handoff.schema import UTCDateTime, metadata
from ..settings import get_settings
from .records import Outcome, as_row, from_row

logger = logging.getLogger(__name__)

outcomes_table = Table(
    "analytics_outcomes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", UTCDateTime, nullable=False),
    Column("day", String(10), nullable=False),  # Japan time, YYYY-MM-DD
    Column("hour", SmallInteger, nullable=False),  # Japan time, 0-23
    Column("kind", String(16), nullable=False),
    Column("conversation", String(128), nullable=False),
    Column("channel", String(32), nullable=False),
    Column("decision", String(32), nullable=False),
    Column("detail", String(32)),
    Column("term", String(200)),
    Column("faq_id", String(64)),
    Column("confidence", Float),
    Column("latency_ms", Float),
    Column("question", Text),
    Column("normalized", Text),
    Column("message_id", String(64)),
    Column("ticket_id", String(32)),
    Column("agent", Text),
    Column("value", Float),
    Column("after_answer", Boolean),
    Index("ix_analytics_outcomes_day_kind", "day", "kind"),
    Index("ix_analytics_outcomes_conversation", "conversation", "at"),
)


def log_disabled() -> bool:
    return not get_settings().outcome_log


class OutcomeLog:
    """Writes Outcome records off the caller's thread (see the module's notes)."""

    def __init__(
        self,
        engine: Engine,
        flush_seconds: float | None = None,
        batch: int = 500,
        max_queue: int = 100_000,
        enabled: bool | None = None,
    ) -> None:
        self.engine = engine
        self.enabled = (not log_disabled()) if enabled is None else enabled
        if flush_seconds is None:
            flush_seconds = get_settings().outcome_flush_seconds
        self.flush_seconds = max(0.01, flush_seconds)
        self.batch = batch
        self.max_queue = max_queue
        self.dropped = 0
        self.written = 0
        self._queue: deque[Outcome] = deque()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._lock = threading.Lock()  # one writer at a time (thread or flush())
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        if self.enabled:
            create_schema(engine)
            atexit.register(self._flush_at_exit)

    # -- hot path ------------------------------------------------------------------

    def record(self, outcome: Outcome) -> None:
        """Queue a record; returns at once (microseconds)."""
        if not self.enabled:
            return
        if len(self._queue) >= self.max_queue:
            self.dropped += 1
            return
        self._queue.append(outcome)
        if self._thread is None:
            self._start()
        elif len(self._queue) >= self.batch:
            self._wake.set()

    # -- writer --------------------------------------------------------------------

    def _start(self) -> None:
        with self._start_lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="outcome-log", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.flush_seconds)
            self._wake.clear()
            try:
                self.flush()
            except Exception:
                logger.exception("outcome log: insert failed; %d rows kept", len(self._queue))

    def flush(self) -> int:
        """Write every queued record now; returns how many were written."""
        if not self.enabled:
            return 0
        total = 0
        with self._lock:
            while self._queue:
                taken: list[Outcome] = []
                while self._queue and len(taken) < self.batch:
                    taken.append(self._queue.popleft())
                try:
                    self.write(taken)
                except Exception:
                    self._queue.extendleft(reversed(taken))  # back in front, in order
                    raise
                total += len(taken)
        self.written += total
        return total

    def write(self, records: Iterable[Outcome]) -> None:
        rows = [as_row(r) for r in records]
        if rows:
            with self.engine.begin() as conn:
                conn.execute(insert(outcomes_table), rows)

    def _flush_at_exit(self) -> None:
        try:
            self.flush()
        except Exception:  # noqa: BLE001 — at exit the database may be gone: say so, no traceback
            logger.warning("outcome log: %d rows not written at exit", len(self._queue))

    def stop(self, timeout: float = 2.0) -> None:
        self._stop.set()
        self._wake.set()
        if isinstance(self._thread, threading.Thread):
            self._thread.join(timeout)
        atexit.unregister(self._flush_at_exit)
        self.flush()

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """Tests: wait until the queue is written."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if not self._queue and not self._lock.locked():
                return True
            time.sleep(0.01)
        return False


class OutcomeStore:
    """Reading and deleting outcome rows (retention and deletion requests)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        create_schema(engine)

    def rows(self, day_from: str, day_to: str, kinds: Iterable[str] | None = None) -> list[Outcome]:
        t = outcomes_table.c
        stmt = select(outcomes_table).where(t.day >= day_from, t.day <= day_to)
        if kinds is not None:
            stmt = stmt.where(t.kind.in_(list(kinds)))
        with reading(self.engine) as conn:
            return [from_row(r._mapping) for r in conn.execute(stmt.order_by(t.id)).all()]

    def forget(self, conversation: str) -> int:
        """Delete every row of one conversation (a deletion request)."""
        with self.engine.begin() as conn:
            res = conn.execute(
                delete(outcomes_table).where(outcomes_table.c.conversation == conversation)
            )
        return int(res.rowcount or 0)

    def purge(self, before: datetime) -> int:
        """Delete rows older than ``before`` (retention)."""
        with self.engine.begin() as conn:
            res = conn.execute(delete(outcomes_table).where(outcomes_table.c.at < before))
        return int(res.rowcount or 0)

    def count(self) -> int:
        with reading(self.engine) as conn:
            return int(conn.execute(select(func.count()).select_from(outcomes_table)).scalar_one())

"""LINE state in the handoff database (HANDOFF_DB_URL, shared by every server).

* ``line_webhook_events``: one row per webhook event taken. ``take`` is an INSERT
  that only one server can win, so an event LINE redelivers (or delivers to two
  servers behind a balancer) is processed once.
* ``line_users``: followed / unfollowed (no message can reach an unfollowed user).
* ``line_sends``: replies and pushes per day (pushes cost money: docs/line.md).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Integer,
    String,
    Table,
    delete,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from ..handoff.db import create_schema, make_engine, reading
from ..handoff.schema import JST, UTCDateTime, metadata, now_utc

KEEP_EVENTS = timedelta(days=7)  # LINE redelivers for a limited time only
SEND_KINDS = ("reply", "push", "push_failed", "reply_failed")
events = Table(
    "line_webhook_events",
    metadata,
    Column("event_id", String(64), primary_key=True),
    Column("received_at", UTCDateTime, nullable=False, index=True),
)

users = Table(
    "line_users",
    metadata,
    Column("user_id", String(64), primary_key=True),
    Column("active", Boolean, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

sends = Table(
    "line_sends",
    metadata,
    Column("day", String(10), primary_key=True),  # Japan date, YYYY-MM-DD
    Column("kind", String(16), primary_key=True),
    Column("calls", Integer, nullable=False),
    Column("messages", Integer, nullable=False),
)


class LineStore:
    def __init__(self, url_or_engine: str | Engine) -> None:
        self.engine = (
            make_engine(url_or_engine) if isinstance(url_or_engine, str) else url_or_engine
        )
        create_schema(self.engine)  # with every other table, under one lock (PostgreSQL)

    def take(self, event_id: str, now: datetime | None = None) -> bool:
        """True for the first server to take this webhook event, False ever after."""
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(events).values(event_id=event_id, received_at=now_utc(now)))
            return True
        except IntegrityError:
            return False

    def forget_old(self, now: datetime | None = None) -> int:
        with self.engine.begin() as conn:
            result = conn.execute(
                delete(events).where(events.c.received_at < now_utc(now) - KEEP_EVENTS)
            )
            return int(result.rowcount or 0)

    def set_active(self, user_id: str, active: bool, now: datetime | None = None) -> None:
        with self.engine.begin() as conn:
            done = conn.execute(
                update(users)
                .where(users.c.user_id == user_id)
                .values(active=active, updated_at=now_utc(now))
            )
            if not done.rowcount:
                conn.execute(
                    insert(users).values(user_id=user_id, active=active, updated_at=now_utc(now))
                )

    def is_active(self, user_id: str) -> bool:
        """Unknown users count as active (they wrote to us, or followed before we ran)."""
        with reading(self.engine) as conn:
            row = conn.execute(select(users.c.active).where(users.c.user_id == user_id)).first()
        return True if row is None else bool(row[0])

    def count(self, kind: str, messages: int, now: datetime | None = None) -> None:
        if kind not in SEND_KINDS:
            raise ValueError(f"unknown send kind {kind!r}")
        day = now_utc(now).astimezone(JST).strftime("%Y-%m-%d")
        with self.engine.begin() as conn:
            done = conn.execute(
                update(sends)
                .where(sends.c.day == day, sends.c.kind == kind)
                .values(calls=sends.c.calls + 1, messages=sends.c.messages + messages)
            )
            if not done.rowcount:
                conn.execute(insert(sends).values(day=day, kind=kind, calls=1, messages=messages))

    def totals(self, since_day: str = "") -> dict[str, dict[str, Any]]:
        """{kind: {"calls": n, "messages": n}} from ``since_day`` (YYYY-MM-DD) on."""
        out: dict[str, dict[str, Any]] = {k: {"calls": 0, "messages": 0} for k in SEND_KINDS}
        with reading(self.engine) as conn:
            for row in conn.execute(select(sends).where(sends.c.day >= since_day)):
                out[row.kind]["calls"] += row.calls
                out[row.kind]["messages"] += row.messages
        return out

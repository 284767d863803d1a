"""Exactly-once receipts for client message ids (REST `message_id` / `Idempotency-Key`,
the widget's message ids): the first attempt claims the id, later attempts with the same
id get the stored reply instead of a second turn (docs/reliability.md).

The table lives in the tracker store's database (shared by every Rasa server behind the
balancer), one row per (message id): who sent it, whether its turn is done, the reply,
and when it expires (MESSAGE_ID_TTL_HOURS). A claim is a lease (LEASE_SECONDS) that the
server renews while the turn runs: a server killed mid-turn stops renewing and a retry
takes the id over after the lease ends (then it checks whether the dead server's turn was
stored before processing it again). SQLAlchemy Core, SQLite and PostgreSQL; no Rasa.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, Float, MetaData, String, Table, Text, delete, insert, select, update
from sqlalchemy import text as sql_text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from .settings import Settings, get_settings

MESSAGE_ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")
MAX_MESSAGE_ID = 128
LEASE_SECONDS = 10.0
DEFAULT_TTL_HOURS = 24
_DDL_LOCK_KEY = 0x52435054  # "RCPT"

metadata = MetaData()
receipts = Table(
    "message_receipts",
    metadata,
    Column("message_id", String(MAX_MESSAGE_ID), primary_key=True),
    Column("sender_id", Text, nullable=False),
    Column("channel", String(16), nullable=False),
    Column("state", String(8), nullable=False),  # pending | done
    Column("lease_until", Float, nullable=False),
    Column("reply", Text),  # JSON: what the client was sent
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False),
)


def message_id_problem(value: Any) -> str | None:
    """Why ``value`` is not a usable message id, or None."""
    if not isinstance(value, str):
        return "message_id must be a string"
    if len(value) > MAX_MESSAGE_ID:
        return f"message_id must be at most {MAX_MESSAGE_ID} characters"
    if not MESSAGE_ID_RE.fullmatch(value):
        return "message_id may contain only letters, digits and . _ : - (e.g. a UUID)"
    return None


def ttl_hours(environ: Mapping[str, str] | None = None) -> float:
    """MESSAGE_ID_TTL_HOURS, in (0, 2160] (assistant/settings.py)."""
    s = get_settings() if environ is None else Settings.from_env(environ)
    return float(s.message_id_ttl_hours)


@dataclass(frozen=True)
class Claim:
    """``new``: process the message (this server holds the lease); ``takeover``: a
    previous attempt's lease ended without a reply (check the tracker, then process);
    ``done``: the stored ``reply``; ``busy``: another attempt holds the lease;
    ``other_sender``: the id belongs to another sender's message."""

    outcome: str
    reply: Any = None


class ReceiptStore:
    def __init__(self, engine: Engine, ttl_hours: float = DEFAULT_TTL_HOURS) -> None:
        self.engine = engine
        self.ttl = ttl_hours * 3600
        with engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(sql_text("SELECT pg_advisory_xact_lock(:k)"), {"k": _DDL_LOCK_KEY})
            metadata.create_all(conn)

    def claim(self, message_id: str, sender: str, channel: str, now: float | None = None) -> Claim:
        now = time.time() if now is None else now
        r = receipts.c
        values = {
            "message_id": message_id,
            "sender_id": sender,
            "channel": channel,
            "state": "pending",
            "lease_until": now + LEASE_SECONDS,
            "reply": None,
            "created_at": now,
            "expires_at": now + self.ttl,
        }
        try:
            with self.engine.begin() as conn:
                conn.execute(delete(receipts).where(r.message_id == message_id, r.expires_at < now))
                conn.execute(insert(receipts).values(**values))
            return Claim("new")
        except IntegrityError:
            pass
        with self.engine.begin() as conn:
            row = conn.execute(select(receipts).where(r.message_id == message_id)).first()
            if row is None:  # expired and deleted by another attempt meanwhile
                return Claim("busy")
            if row.sender_id != sender:
                return Claim("other_sender")
            if row.state == "done":
                return Claim("done", json.loads(row.reply) if row.reply else [])
            if row.lease_until > now:
                return Claim("busy")
            taken = conn.execute(
                update(receipts)
                .where(r.message_id == message_id, r.lease_until == row.lease_until)
                .values(lease_until=now + LEASE_SECONDS)
            ).rowcount
        return Claim("takeover" if taken else "busy")

    def renew(self, message_id: str, now: float | None = None) -> None:
        now = time.time() if now is None else now
        r = receipts.c
        with self.engine.begin() as conn:
            conn.execute(
                update(receipts)
                .where(r.message_id == message_id, r.state == "pending")
                .values(lease_until=now + LEASE_SECONDS)
            )

    def finish(self, message_id: str, reply: Any) -> None:
        r = receipts.c
        with self.engine.begin() as conn:
            conn.execute(
                update(receipts)
                .where(r.message_id == message_id)
                .values(state="done", reply=json.dumps(reply, ensure_ascii=False))
            )

    def release(self, message_id: str) -> None:
        """The turn failed and stored nothing: the next attempt processes it."""
        r = receipts.c
        with self.engine.begin() as conn:
            conn.execute(delete(receipts).where(r.message_id == message_id, r.state == "pending"))

    def get(self, message_id: str) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(receipts).where(receipts.c.message_id == message_id)).first()
        return dict(row._mapping) if row else None

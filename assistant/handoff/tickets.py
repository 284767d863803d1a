"""Escalation tickets: persistence with SQLAlchemy (SQLite file or PostgreSQL).

Design notes
------------
* Ticket ids are ``ESC-YYYYMMDD-NNNN``: the date is the creation day in Japan
  time and NNNN a per-day sequence drawn from a counter row that is bumped in
  the same transaction as the ticket insert, so ids stay unique across threads
  and processes (PostgreSQL: row lock of the upsert; SQLite: every transaction
  is ``BEGIN IMMEDIATE``, i.e. writers are serialised by the file lock).
* Datetimes are stored as UTC and always returned timezone-aware (UTC).
  Naive datetimes are rejected instead of guessed.
* Follow-up messages live in their own table, so appending never rewrites
  (and can never clobber) the ticket row.
* User text is stored as is, except NUL (PostgreSQL rejects it in text) and
  lone surrogates (not encodable as UTF-8), which would otherwise make the
  insert fail and lose the whole ticket.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Iterable, Sequence

from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    event,
    func,
    insert,
    or_,
    select,
    text as sql_text,
    update,
)
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.pool import StaticPool
from sqlalchemy.types import TypeDecorator

# Japan has no DST, so a fixed offset is exact and needs no tz database.
JST = timezone(timedelta(hours=9), "JST")

REASONS = ("explicit", "fallback", "feedback")
STATUSES = ("open", "closed")
CONTACT_KINDS = ("email", "phone")
DELIVERY_STATUSES = ("pending", "delivered", "failed", "disabled")

_ID_RETRIES = 5
_DDL_LOCK_KEY = 0x48414E44  # arbitrary, "HAND"


class TicketNotFound(LookupError):
    """No ticket with this id."""

    def __init__(self, ticket_id: str):
        super().__init__(f"ticket not found: {ticket_id!r}")
        self.ticket_id = ticket_id


@dataclass
class Ticket:
    """A ticket as plain data, detached from any database session."""

    id: str
    sender_id: str
    channel: str
    created_at: datetime
    reason: str
    last_question: str
    term: str | None
    candidates: list[str]
    transcript: list[dict[str, Any]]
    contact: str | None
    contact_kind: str | None
    status: str
    closed_at: datetime | None
    messages: list[dict[str, str]] = field(default_factory=list)
    delivery_status: str = "pending"
    delivery_attempts: int = 0
    next_attempt_at: datetime | None = None
    last_delivery_error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (datetimes as ISO 8601 strings)."""

        def iso(d: datetime | None) -> str | None:
            return d.isoformat() if d else None

        return {
            "id": self.id,
            "sender_id": self.sender_id,
            "channel": self.channel,
            "created_at": iso(self.created_at),
            "reason": self.reason,
            "last_question": self.last_question,
            "term": self.term,
            "candidates": list(self.candidates),
            "transcript": [dict(t) for t in self.transcript],
            "contact": self.contact,
            "contact_kind": self.contact_kind,
            "status": self.status,
            "closed_at": iso(self.closed_at),
            "messages": [dict(m) for m in self.messages],
            "delivery_status": self.delivery_status,
            "delivery_attempts": self.delivery_attempts,
            "next_attempt_at": iso(self.next_attempt_at),
            "last_delivery_error": self.last_delivery_error,
        }


# --------------------------------------------------------------------------
# Text cleaning


def clean_text(value: Any) -> str:
    """Make user text storable on every backend without losing anything else."""
    text = value if isinstance(value, str) else str(value)
    text = text.replace("\x00", "")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        # Lone surrogates (e.g. from a broken client) -> U+FFFD; valid pairs are
        # recombined by the UTF-16 round trip.
        text = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return text


def _clean_optional(value: Any) -> str | None:
    return None if value is None else clean_text(value)


def _clean_json(value: Any) -> Any:
    """Recursively clean strings; datetimes become ISO strings."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {clean_text(k): _clean_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean_json(v) for v in value]
    if value is None or isinstance(value, (bool, int, float)):
        return value
    return clean_text(value)


def _normalize_transcript(transcript: Iterable[Any] | None) -> list[dict[str, Any]]:
    out = []
    for turn in transcript or []:
        if isinstance(turn, dict):
            item = _clean_json(dict(turn))
        else:  # keep whatever we were given rather than dropping it
            item = {"text": clean_text(turn)}
        item.setdefault("role", "user")
        item.setdefault("text", "")
        item.setdefault("time", "")
        out.append(item)
    return out


# --------------------------------------------------------------------------
# Schema


class UTCDateTime(TypeDecorator):
    """Aware datetimes in, aware UTC datetimes out, on SQLite and PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        value = _require_aware(value).astimezone(timezone.utc)
        if dialect.name == "sqlite":
            # SQLite keeps text; storing naive UTC keeps it sortable.
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


metadata = MetaData()

tickets_table = Table(
    "handoff_tickets",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("day", String(8), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("sender_id", Text, nullable=False),
    Column("channel", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("reason", String(16), nullable=False),
    Column("last_question", Text, nullable=False),
    Column("term", Text),
    Column("candidates", JSON, nullable=False),
    Column("transcript", JSON, nullable=False),
    Column("contact", Text),
    Column("contact_kind", String(8)),
    Column("status", String(8), nullable=False),
    Column("closed_at", UTCDateTime),
    Column("delivery_status", String(16), nullable=False),
    Column("delivery_attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UTCDateTime),
    Column("last_delivery_error", Text),
    # Lease so that two workers never POST the same ticket at the same time.
    Column("delivery_claimed_until", UTCDateTime),
    Index("ix_handoff_tickets_sender_status", "sender_id", "status"),
    Index("ix_handoff_tickets_delivery", "delivery_status", "next_attempt_at"),
)

messages_table = Table(
    "handoff_ticket_messages",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("ticket_id", String(32), ForeignKey("handoff_tickets.id"), nullable=False, index=True),
    Column("text", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

counters_table = Table(
    "handoff_ticket_counters",
    metadata,
    Column("day", String(8), primary_key=True),
    Column("last_seq", Integer, nullable=False),
)


# --------------------------------------------------------------------------
# Helpers


def _require_aware(value: datetime) -> datetime:
    if not isinstance(value, datetime):
        raise TypeError(f"expected datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        raise ValueError("naive datetime: pass a timezone-aware datetime")
    return value


def _now(now: datetime | None) -> datetime:
    if now is None:
        return datetime.now(timezone.utc)
    return _require_aware(now).astimezone(timezone.utc)


def format_ticket_id(day: str, seq: int) -> str:
    return f"ESC-{day}-{seq:04d}"


def _json_dumps(obj: Any) -> str:
    # Readable Japanese in the database instead of \\uXXXX escapes.
    return json.dumps(obj, ensure_ascii=False)


def _make_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(
            url, future=True, pool_pre_ping=True, json_serializer=_json_dumps
        )

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
            connect_args={"timeout": 30},  # wait for the file lock, don't fail
        )

    # pysqlite's own transaction handling starts transactions late and lazily;
    # take control so that each transaction takes the write lock up front
    # (documented SQLAlchemy recipe). That serialises writers across processes
    # and makes the read-modify-write of the counter safe.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        dbapi_conn.isolation_level = None
        dbapi_conn.execute("PRAGMA foreign_keys=ON")

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def _row_to_ticket(row: Any, messages: Sequence[dict[str, str]]) -> Ticket:
    m = row._mapping
    return Ticket(
        id=m["id"],
        sender_id=m["sender_id"],
        channel=m["channel"],
        created_at=m["created_at"],
        reason=m["reason"],
        last_question=m["last_question"],
        term=m["term"],
        candidates=list(m["candidates"] or []),
        transcript=list(m["transcript"] or []),
        contact=m["contact"],
        contact_kind=m["contact_kind"],
        status=m["status"],
        closed_at=m["closed_at"],
        messages=list(messages),
        delivery_status=m["delivery_status"],
        delivery_attempts=m["delivery_attempts"] or 0,
        next_attempt_at=m["next_attempt_at"],
        last_delivery_error=m["last_delivery_error"],
    )


# --------------------------------------------------------------------------
# Store


class TicketStore:
    """All ticket persistence. Thread-safe; safe to share a database between
    processes. Every public method runs in its own short transaction."""

    def __init__(self, url: str):
        self.url = url
        self.engine = _make_engine(url)
        with self.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                # Several workers starting on an empty database would race on
                # CREATE TABLE; serialise them (lock ends with the transaction).
                conn.execute(sql_text("SELECT pg_advisory_xact_lock(:key)"), {"key": _DDL_LOCK_KEY})
            metadata.create_all(conn)

    def dispose(self) -> None:
        """Close pooled connections (tests, shutdown)."""
        self.engine.dispose()

    # -- creation ---------------------------------------------------------

    def create(
        self,
        sender_id: str,
        channel: str,
        reason: str,
        last_question: str,
        term: str | None,
        candidates: Sequence[str] | None,
        transcript: Sequence[dict[str, Any]] | None,
        contact: str | None = None,
        contact_kind: str | None = None,
        now: datetime | None = None,
        notify: bool = True,
    ) -> Ticket:
        if reason not in REASONS:
            raise ValueError(f"reason must be one of {REASONS}, got {reason!r}")
        _check_contact_kind(contact, contact_kind)
        created = _now(now)
        day = created.astimezone(JST).strftime("%Y%m%d")
        values = {
            "day": day,
            "sender_id": clean_text(sender_id),
            "channel": clean_text(channel),
            "created_at": created,
            "reason": reason,
            "last_question": clean_text(last_question if last_question is not None else ""),
            "term": _clean_optional(term),
            "candidates": [clean_text(c) for c in (candidates or [])],
            "transcript": _normalize_transcript(transcript),
            "contact": _clean_optional(contact),
            "contact_kind": contact_kind if contact is not None else None,
            "status": "open",
            "closed_at": None,
            "delivery_status": "pending" if notify else "disabled",
            "delivery_attempts": 0,
            "next_attempt_at": created if notify else None,
            "last_delivery_error": None,
            "delivery_claimed_until": None,
        }
        last_error: Exception | None = None
        for _ in range(_ID_RETRIES):
            try:
                with self.engine.begin() as conn:
                    seq = self._next_seq(conn, day)
                    ticket_id = format_ticket_id(day, seq)
                    conn.execute(insert(tickets_table).values(id=ticket_id, seq=seq, **values))
                return self.get(ticket_id)
            except (IntegrityError, OperationalError) as exc:
                # Lost a race creating the day's counter row (PostgreSQL) or a
                # lock timeout / deadlock: the transaction rolled back, retry.
                last_error = exc
        assert last_error is not None
        raise last_error

    def _next_seq(self, conn: Connection, day: str) -> int:
        dialect = conn.dialect.name
        if dialect in ("postgresql", "sqlite"):
            if dialect == "postgresql":
                from sqlalchemy.dialects.postgresql import insert as upsert
            else:
                from sqlalchemy.dialects.sqlite import insert as upsert
            stmt = upsert(counters_table).values(day=day, last_seq=1)
            stmt = stmt.on_conflict_do_update(
                index_elements=[counters_table.c.day],
                set_={"last_seq": counters_table.c.last_seq + 1},
            )
            conn.execute(stmt)
        else:  # generic fallback; a concurrent first insert retries in create()
            res = conn.execute(
                update(counters_table)
                .where(counters_table.c.day == day)
                .values(last_seq=counters_table.c.last_seq + 1)
            )
            if res.rowcount == 0:
                conn.execute(insert(counters_table).values(day=day, last_seq=1))
        # Our own uncommitted row: locked against other writers until commit.
        seq = conn.execute(
            select(counters_table.c.last_seq).where(counters_table.c.day == day)
        ).scalar_one()
        # Self-heal if the counter row was lost or reset while tickets remain.
        used = conn.execute(
            select(func.max(tickets_table.c.seq)).where(tickets_table.c.day == day)
        ).scalar()
        if used is not None and seq <= used:
            seq = used + 1
            conn.execute(
                update(counters_table).where(counters_table.c.day == day).values(last_seq=seq)
            )
        return seq

    # -- reading ----------------------------------------------------------

    def get(self, ticket_id: str) -> Ticket:
        with self.engine.begin() as conn:
            row = conn.execute(
                select(tickets_table).where(tickets_table.c.id == ticket_id)
            ).first()
            if row is None:
                raise TicketNotFound(ticket_id)
            msgs = self._messages(conn, [ticket_id])
        return _row_to_ticket(row, msgs.get(ticket_id, []))

    def open_for_sender(self, sender_id: str) -> Ticket | None:
        """The most recent open ticket of this sender, if any."""
        with self.engine.begin() as conn:
            row = conn.execute(
                select(tickets_table)
                .where(
                    tickets_table.c.sender_id == clean_text(sender_id),
                    tickets_table.c.status == "open",
                )
                .order_by(tickets_table.c.created_at.desc(), tickets_table.c.id.desc())
                .limit(1)
            ).first()
            if row is None:
                return None
            msgs = self._messages(conn, [row.id])
        return _row_to_ticket(row, msgs.get(row.id, []))

    def list(self, status: str | None = None, limit: int = 100) -> list[Ticket]:
        """Newest first. ``status`` None = all."""
        if status is not None and status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES} or None, got {status!r}")
        stmt = select(tickets_table).order_by(
            tickets_table.c.created_at.desc(), tickets_table.c.id.desc()
        )
        if status is not None:
            stmt = stmt.where(tickets_table.c.status == status)
        if limit is not None:
            stmt = stmt.limit(max(0, int(limit)))
        return self._select_tickets(stmt)

    def due_deliveries(self, now: datetime | None = None) -> list[Ticket]:
        """Tickets whose webhook should be (re)tried now: pending, due, and not
        currently being delivered by another worker. Oldest first."""
        at = _now(now)
        t = tickets_table.c
        stmt = (
            select(tickets_table)
            .where(
                t.delivery_status == "pending",
                or_(t.next_attempt_at.is_(None), t.next_attempt_at <= at),
                or_(t.delivery_claimed_until.is_(None), t.delivery_claimed_until <= at),
            )
            .order_by(t.created_at, t.id)
        )
        return self._select_tickets(stmt)

    def _select_tickets(self, stmt: Any) -> list[Ticket]:
        with self.engine.begin() as conn:
            rows = conn.execute(stmt).all()
            msgs = self._messages(conn, [r.id for r in rows])
        return [_row_to_ticket(r, msgs.get(r.id, [])) for r in rows]

    @staticmethod
    def _messages(conn: Connection, ids: Sequence[str]) -> dict[str, list[dict[str, str]]]:
        out: dict[str, list[dict[str, str]]] = {}
        if not ids:
            return out
        m = messages_table.c
        rows = conn.execute(
            select(m.ticket_id, m.text, m.created_at)
            .where(m.ticket_id.in_(list(ids)))
            .order_by(m.id)
        ).all()
        for r in rows:
            out.setdefault(r.ticket_id, []).append(
                {"text": r.text, "time": r.created_at.isoformat()}
            )
        return out

    # -- changes ----------------------------------------------------------

    def append_message(self, ticket_id: str, text: str, now: datetime | None = None) -> dict[str, str]:
        """Store a follow-up message (also on closed tickets: never drop user
        text). Returns the stored message."""
        at = _now(now)
        cleaned = clean_text(text if text is not None else "")
        with self.engine.begin() as conn:
            self._require(conn, ticket_id)
            conn.execute(insert(messages_table).values(ticket_id=ticket_id, text=cleaned, created_at=at))
        return {"text": cleaned, "time": at.isoformat()}

    def set_contact(self, ticket_id: str, contact: str | None, kind: str | None) -> Ticket:
        _check_contact_kind(contact, kind)
        self._update(
            ticket_id,
            contact=_clean_optional(contact),
            contact_kind=kind if contact is not None else None,
        )
        return self.get(ticket_id)

    def close(self, ticket_id: str, now: datetime | None = None) -> Ticket:
        """Close the ticket. Closing twice keeps the first closing time."""
        at = _now(now)
        with self.engine.begin() as conn:
            self._require(conn, ticket_id)
            conn.execute(
                update(tickets_table)
                .where(tickets_table.c.id == ticket_id, tickets_table.c.status == "open")
                .values(status="closed", closed_at=at)
            )
        return self.get(ticket_id)

    def claim_delivery(self, ticket_id: str, now: datetime | None = None, lease_seconds: float = 60.0) -> bool:
        """Atomically take the right to POST this ticket for ``lease_seconds``.
        False if it is not pending, not due yet (backoff), or another worker
        holds the lease."""
        at = _now(now)
        t = tickets_table.c
        with self.engine.begin() as conn:
            self._require(conn, ticket_id)
            res = conn.execute(
                update(tickets_table)
                .where(
                    t.id == ticket_id,
                    t.delivery_status == "pending",
                    or_(t.next_attempt_at.is_(None), t.next_attempt_at <= at),
                    or_(t.delivery_claimed_until.is_(None), t.delivery_claimed_until <= at),
                )
                .values(delivery_claimed_until=at + timedelta(seconds=lease_seconds))
            )
            return res.rowcount == 1

    def record_delivery(
        self,
        ticket_id: str,
        ok: bool,
        error: str | None,
        next_attempt_at: datetime | None,
    ) -> Ticket:
        """Record one delivery attempt. ok -> ``delivered``; not ok with a
        ``next_attempt_at`` -> stays ``pending`` until then; not ok without
        one -> ``failed`` (given up; see :meth:`requeue_delivery`)."""
        t = tickets_table.c
        if ok:
            values = {"delivery_status": "delivered", "next_attempt_at": None, "last_delivery_error": None}
        else:
            values = {
                "delivery_status": "pending" if next_attempt_at is not None else "failed",
                "next_attempt_at": next_attempt_at,
                "last_delivery_error": _clean_optional(error)[:2000] if error else "unknown error",
            }
        with self.engine.begin() as conn:
            self._require(conn, ticket_id)
            conn.execute(
                update(tickets_table)
                .where(t.id == ticket_id)
                .values(delivery_attempts=t.delivery_attempts + 1, delivery_claimed_until=None, **values)
            )
        return self.get(ticket_id)

    def requeue_delivery(self, ticket_id: str, now: datetime | None = None) -> Ticket:
        """Put a ``failed`` ticket back in the queue (staff retry after an
        outage). Delivered/disabled tickets are left alone."""
        at = _now(now)
        t = tickets_table.c
        with self.engine.begin() as conn:
            self._require(conn, ticket_id)
            conn.execute(
                update(tickets_table)
                .where(t.id == ticket_id, t.delivery_status == "failed")
                .values(delivery_status="pending", next_attempt_at=at, delivery_claimed_until=None)
            )
        return self.get(ticket_id)

    def _update(self, ticket_id: str, **values: Any) -> None:
        with self.engine.begin() as conn:
            res = conn.execute(
                update(tickets_table).where(tickets_table.c.id == ticket_id).values(**values)
            )
            if res.rowcount == 0:
                raise TicketNotFound(ticket_id)

    @staticmethod
    def _require(conn: Connection, ticket_id: str) -> None:
        found = conn.execute(
            select(tickets_table.c.id).where(tickets_table.c.id == ticket_id)
        ).first()
        if found is None:
            raise TicketNotFound(ticket_id)


def _check_contact_kind(contact: str | None, kind: str | None) -> None:
    if contact is not None and kind not in CONTACT_KINDS:
        raise ValueError(f"contact_kind must be one of {CONTACT_KINDS}, got {kind!r}")
    if contact is None and kind is not None:
        raise ValueError("contact_kind given without contact")

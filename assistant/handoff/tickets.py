"""Escalation tickets: creation, reading and changes (SQLAlchemy Core).

Design notes
------------
* Ticket ids are ``ESC-YYYYMMDD-NNNN``: the date is the creation day in Japan
  time and NNNN a per-day sequence drawn from a counter row that is bumped in
  the same transaction as the ticket insert, so ids stay unique across threads
  and processes (PostgreSQL: row lock of the upsert; SQLite: every transaction
  is ``BEGIN IMMEDIATE``, i.e. writers are serialised by the file lock, see
  db.py).
* Text cleaning is in sanitize.py, the tables and datetime handling in
  schema.py, the webhook delivery queue in delivery.py.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, or_, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError, OperationalError

from .db import create_schema, make_engine, reading
from .queue_order import QueueEntry, queue_positions
from .sanitize import clean_json, clean_optional, clean_text, normalize_transcript
from .schema import (
    CONTACT_KINDS,
    JST,
    MESSAGE_ROLES,
    REASONS,
    STATUSES,
    counters_table,
    messages_table,
    now_utc,
    tickets_table,
)

_ID_RETRIES = 5


class AlreadyClaimed(RuntimeError):
    """Another agent owns the conversation."""

    def __init__(self, ticket_id: str, owner_name: str | None):
        super().__init__(f"ticket {ticket_id} is already claimed by {owner_name!r}")
        self.owner_name = owner_name


class TicketClosed(RuntimeError):
    """The ticket is closed: nothing to claim."""


class TicketNotFound(LookupError):
    """No ticket with this id."""

    def __init__(self, ticket_id: str):
        super().__init__(f"ticket not found: {ticket_id!r}")
        self.ticket_id = ticket_id


@dataclass
class Ticket:
    """A ticket as plain data, detached from any database session.

    The fields are declared here only: each but ``messages`` (the rows of
    ``handoff_ticket_messages``) is the column of ``handoff_tickets`` of the same name,
    read by ``_row_to_ticket``, and ``to_dict`` (the webhook's JSON) lists them in this
    order (tests/unit/handoff/test_schema.py)."""

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
    messages: list[dict[str, Any]] = field(default_factory=list)
    delivery_status: str = "pending"
    delivery_attempts: int = 0
    next_attempt_at: datetime | None = None
    last_delivery_error: str | None = None
    owner: str | None = None  # agent username (live chat)
    owner_name: str | None = None
    claimed_at: datetime | None = None
    close_reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (datetimes as ISO 8601 strings)."""
        return {f.name: _json_ready(getattr(self, f.name)) for f in fields(self)}


def _json_ready(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, list):  # copies: candidates, transcript turns, messages
        return [dict(v) if isinstance(v, dict) else v for v in value]
    return value


# The ticket fields kept in the ticket row, by column name.
TICKET_COLUMNS = tuple(f.name for f in fields(Ticket) if f.name != "messages")


def format_ticket_id(day: str, seq: int) -> str:
    return f"ESC-{day}-{seq:04d}"


def _row_to_ticket(row: Any, messages: Sequence[dict[str, Any]]) -> Ticket:
    values = {name: row._mapping[name] for name in TICKET_COLUMNS}
    values["candidates"] = list(values["candidates"] or [])
    values["transcript"] = list(values["transcript"] or [])
    values["delivery_attempts"] = values["delivery_attempts"] or 0
    return Ticket(**values, messages=list(messages))


# --------------------------------------------------------------------------
# Store


class TicketStore:
    """All ticket persistence. Thread-safe; safe to share a database between
    processes. Every public method runs in its own short transaction."""

    def __init__(self, url: str):
        self.url = url
        self.engine = make_engine(url)
        create_schema(self.engine)

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
        created = now_utc(now)
        day = created.astimezone(JST).strftime("%Y%m%d")
        values = {
            "day": day,
            "sender_id": clean_text(sender_id),
            "channel": clean_text(channel),
            "created_at": created,
            "reason": reason,
            "last_question": clean_text(last_question if last_question is not None else ""),
            "term": clean_optional(term),
            "candidates": [clean_text(c) for c in (candidates or [])],
            "transcript": normalize_transcript(transcript),
            "contact": clean_optional(contact),
            "contact_kind": contact_kind if contact is not None else None,
            "status": "open",
            "closed_at": None,
            "delivery_status": "pending" if notify else "disabled",
            "delivery_attempts": 0,
            "next_attempt_at": created if notify else None,
            "last_delivery_error": None,
            "delivery_claimed_until": None,
            "updated_at": created,
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
        return int(seq)

    # -- reading ----------------------------------------------------------

    def get(self, ticket_id: str) -> Ticket:
        with reading(self.engine) as conn:
            row = conn.execute(select(tickets_table).where(tickets_table.c.id == ticket_id)).first()
            if row is None:
                raise TicketNotFound(ticket_id)
            msgs = self._messages(conn, [ticket_id])
        return _row_to_ticket(row, msgs.get(ticket_id, []))

    def open_for_sender(self, sender_id: str) -> Ticket | None:
        """The most recent open ticket of this sender, if any."""
        with reading(self.engine) as conn:
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

    def list(self, status: str | None = None, limit: int | None = 100) -> builtins.list[Ticket]:
        """Newest first. ``status`` None = all; ``limit`` None = no limit."""
        if status is not None and status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES} or None, got {status!r}")
        stmt = select(tickets_table).order_by(
            tickets_table.c.created_at.desc(), tickets_table.c.id.desc()
        )
        if status is not None:
            stmt = stmt.where(tickets_table.c.status == status)
        if limit is not None:
            stmt = stmt.limit(max(0, int(limit)))
        return self.select_tickets(stmt)

    def select_tickets(self, stmt: Any) -> builtins.list[Ticket]:
        """Run a ``select(tickets_table)`` statement; the tickets with their messages."""
        with reading(self.engine) as conn:
            rows = conn.execute(stmt).all()
            msgs = self._messages(conn, [r.id for r in rows])
        return [_row_to_ticket(r, msgs.get(r.id, [])) for r in rows]

    @staticmethod
    def _messages(conn: Connection, ids: Sequence[str]) -> dict[str, builtins.list[dict[str, Any]]]:
        out: dict[str, builtins.list[dict[str, Any]]] = {}
        if not ids:
            return out
        rows = conn.execute(
            select(messages_table)
            .where(messages_table.c.ticket_id.in_(list(ids)))
            .order_by(messages_table.c.id)
        ).all()
        for r in rows:
            out.setdefault(r.ticket_id, []).append(_message(r))
        return out

    # -- changes ----------------------------------------------------------

    def append_message(
        self,
        ticket_id: str,
        text: str,
        role: str = "customer",
        author: str | None = None,
        payload: dict[str, Any] | None = None,
        now: datetime | None = None,
    ) -> dict[str, Any]:
        """Store a message (also on closed tickets: never drop user text).
        ``role``: customer, agent or system. Returns the stored message."""
        if role not in MESSAGE_ROLES:
            raise ValueError(f"role must be one of {MESSAGE_ROLES}, got {role!r}")
        at = now_utc(now)
        values = {
            "ticket_id": ticket_id,
            "text": clean_text(text if text is not None else ""),
            "created_at": at,
            "role": role,
            "author": clean_optional(author),
            "payload": clean_json(payload) if payload is not None else None,
        }
        with self.engine.begin() as conn:
            require_ticket(conn, ticket_id)
            new_id = conn.execute(insert(messages_table).values(**values)).inserted_primary_key[0]
        return _message_dict(new_id, values)

    def staff_messages_before(
        self, ticket_id: str, message_id: int
    ) -> builtins.list[dict[str, Any]]:
        """Agent/system messages stored after the customer's previous message and
        before ``message_id`` (a REST customer's reply carries these)."""
        m = messages_table.c
        with reading(self.engine) as conn:
            previous = (
                conn.execute(
                    select(func.max(m.id)).where(
                        m.ticket_id == ticket_id,
                        m.id < message_id,
                        or_(m.role.is_(None), m.role == "customer"),
                    )
                ).scalar()
                or 0
            )
            rows = conn.execute(
                select(messages_table)
                .where(
                    m.ticket_id == ticket_id,
                    m.id > previous,
                    m.id < message_id,
                    m.role.in_(("agent", "system")),
                )
                .order_by(m.id)
            ).all()
        return [_message(r) for r in rows]

    def staff_messages_for_sender(
        self, sender_id: str, after: int = 0, limit: int = 100
    ) -> builtins.list[dict[str, Any]]:
        """Agent/system messages of all this sender's tickets with id > ``after``."""
        m, t = messages_table.c, tickets_table.c
        with reading(self.engine) as conn:
            rows = conn.execute(
                select(messages_table)
                .join(tickets_table, t.id == m.ticket_id)
                .where(
                    t.sender_id == clean_text(sender_id),
                    m.id > after,
                    m.role.in_(("agent", "system")),
                )
                .order_by(m.id)
                .limit(limit)
            ).all()
        return [_message(r) for r in rows]

    # -- live chat: who owns the conversation -------------------------------

    def owned_for_sender(self, sender_id: str) -> Ticket | None:
        """The sender's open ticket that an agent owns, if any (the bot steps aside)."""
        t = tickets_table.c
        stmt = (
            select(tickets_table)
            .where(t.sender_id == clean_text(sender_id), t.status == "open", t.owner.is_not(None))
            .order_by(t.created_at.desc(), t.id.desc())
            .limit(1)
        )
        found = self.select_tickets(stmt)
        return found[0] if found else None

    def claim(
        self, ticket_id: str, owner: str, owner_name: str, now: datetime | None = None
    ) -> Ticket:
        """Make ``owner`` the agent of this conversation. One conditional UPDATE, so of
        two agents claiming at once exactly one wins; the other gets AlreadyClaimed."""
        at = now_utc(now)
        t = tickets_table.c
        with self.engine.begin() as conn:
            require_ticket(conn, ticket_id)
            won = (
                conn.execute(
                    update(tickets_table)
                    .where(t.id == ticket_id, t.status == "open", t.owner.is_(None))
                    .values(
                        owner=owner, owner_name=clean_text(owner_name), claimed_at=at, updated_at=at
                    )
                ).rowcount
                == 1
            )
        ticket = self.get(ticket_id)
        if won:
            return ticket
        if ticket.status != "open":
            raise TicketClosed(ticket_id)
        raise AlreadyClaimed(ticket_id, ticket.owner_name)

    def queue_position(self, ticket_id: str) -> int | None:
        """1-based place among waiting (open, unowned) tickets; None if not waiting.
        The order is the console's (queue_order.queue_positions: created_at, then id).
        The tickets ahead are counted in the database, and only those created at the
        same instant are read: memory and time do not grow with the queue (reading
        every waiting ticket on each handoff was the action server's growth under
        traffic when nobody claimed tickets, docs/memory.md)."""
        t = tickets_table.c
        waiting = (t.status == "open", t.owner.is_(None))
        with reading(self.engine) as conn:
            row = conn.execute(select(t.created_at).where(t.id == ticket_id, *waiting)).first()
            if row is None:
                return None
            ahead = conn.execute(
                select(func.count()).where(*waiting, t.created_at < row.created_at)
            ).scalar_one()
            same_instant = conn.execute(
                select(t.id).where(*waiting, t.created_at == row.created_at)
            ).all()
        entries = [QueueEntry(r.id, row.created_at, None) for r in same_instant]
        return int(ahead) + queue_positions(entries)[ticket_id]

    def change_marker(self) -> tuple[Any, ...]:
        """Changes whenever a ticket is created, claimed, closed or gets a message
        (the console's live updates compare it; cheap: three aggregates)."""
        t, m = tickets_table.c, messages_table.c
        with reading(self.engine) as conn:
            tickets = conn.execute(
                select(func.count(), func.max(t.updated_at), func.max(t.created_at))
            ).one()
            last_message = conn.execute(select(func.max(m.id))).scalar()
        return (*tuple(tickets), last_message)

    def set_contact(self, ticket_id: str, contact: str | None, kind: str | None) -> Ticket:
        _check_contact_kind(contact, kind)
        self._update(
            ticket_id,
            contact=clean_optional(contact),
            updated_at=now_utc(),
            contact_kind=kind if contact is not None else None,
        )
        return self.get(ticket_id)

    def close(
        self, ticket_id: str, now: datetime | None = None, reason: str | None = None
    ) -> Ticket:
        """Close the ticket (``reason``: handback, close, customer; None = staff CLI).
        Closing twice keeps the first closing time and reason."""
        at = now_utc(now)
        with self.engine.begin() as conn:
            require_ticket(conn, ticket_id)
            conn.execute(
                update(tickets_table)
                .where(tickets_table.c.id == ticket_id, tickets_table.c.status == "open")
                .values(status="closed", closed_at=at, close_reason=reason, updated_at=at)
            )
        return self.get(ticket_id)

    def _update(self, ticket_id: str, **values: Any) -> None:
        with self.engine.begin() as conn:
            res = conn.execute(
                update(tickets_table).where(tickets_table.c.id == ticket_id).values(**values)
            )
            if res.rowcount == 0:
                raise TicketNotFound(ticket_id)


def _message_dict(message_id: int, values: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": message_id,
        "ticket_id": values["ticket_id"],
        "role": values["role"] or "customer",
        "author": values["author"],
        "text": values["text"],
        "time": values["created_at"].isoformat(),
        "payload": values["payload"],
    }


def _message(row: Any) -> dict[str, Any]:
    return _message_dict(row.id, dict(row._mapping))


def _check_contact_kind(contact: str | None, kind: str | None) -> None:
    if contact is not None and kind not in CONTACT_KINDS:
        raise ValueError(f"contact_kind must be one of {CONTACT_KINDS}, got {kind!r}")
    if contact is None and kind is not None:
        raise ValueError("contact_kind given without contact")


def require_ticket(conn: Connection, ticket_id: str) -> None:
    """Raise TicketNotFound unless the ticket exists (inside ``conn``'s transaction)."""
    found = conn.execute(select(tickets_table.c.id).where(tickets_table.c.id == ticket_id)).first()
    if found is None:
        raise TicketNotFound(ticket_id)

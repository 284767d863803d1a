"""Tables of the handoff database (SQLAlchemy Core), and the datetime type.

Design notes
------------
* Datetimes are stored as UTC and always returned timezone-aware (UTC).
  Naive datetimes are rejected instead of guessed.
* Follow-up messages live in their own table, so appending never rewrites
  (and can never clobber) the ticket row.
* ``metadata`` is the one MetaData of the handoff database: other modules add
  their tables to it, so ``db.create_schema`` creates everything at once.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)
from sqlalchemy.types import TypeDecorator

from ..conversation import HANDOFF_REASONS

# Japan has no DST, so a fixed offset is exact and needs no tz database.
JST = timezone(timedelta(hours=9), "JST")

REASONS = HANDOFF_REASONS
STATUSES = ("open", "closed")
MESSAGE_ROLES = ("customer", "agent", "system")
CONTACT_KINDS = ("email", "phone")
DELIVERY_STATUSES = ("pending", "delivered", "failed", "disabled")


def require_aware(value: datetime) -> datetime:
    if not isinstance(value, datetime):
        raise TypeError(f"expected datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        raise ValueError("naive datetime: pass a timezone-aware datetime")
    return value


def now_utc(now: datetime | None = None) -> datetime:
    """``now`` (aware, any zone) as UTC; the current time if None."""
    if now is None:
        return datetime.now(timezone.utc)
    return require_aware(now).astimezone(timezone.utc)


class UTCDateTime(TypeDecorator):
    """Aware datetimes in, aware UTC datetimes out, on SQLite and PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        value = require_aware(value).astimezone(timezone.utc)
        if dialect.name == "sqlite":
            # SQLite keeps text; storing naive UTC keeps it sortable.
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
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
    # Live chat: the agent who owns the conversation (NULL = waiting in the queue).
    # Columns added after the first release are nullable: db.add_missing_columns
    # adds them to an existing database.
    Column("owner", Text),
    Column("owner_name", Text),
    Column("claimed_at", UTCDateTime),
    Column("close_reason", String(16)),
    Column("updated_at", UTCDateTime),
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
    Column("role", String(16)),  # customer (NULL in old rows) | agent | system
    Column("author", Text),  # the agent's display name
    Column("payload", JSON),  # what the customer was sent (system messages)
)

counters_table = Table(
    "handoff_ticket_counters",
    metadata,
    Column("day", String(8), primary_key=True),
    Column("last_seq", Integer, nullable=False),
)


# -- live chat: agents, console sessions, audit log -----------------------------

agents_table = Table(
    "handoff_agents",
    metadata,
    Column("username", String(128), primary_key=True),
    Column("display_name", Text, nullable=False),
    Column("password_hash", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("last_seen", UTCDateTime),
    Column("created_at", UTCDateTime, nullable=False),
    Column("disabled", Boolean, nullable=False),
    # Staff role (agent / editor / supervisor); NULL = agent (accounts made before roles).
    Column("role", String(16)),
)

# Only the token's SHA-256 is stored: a leaked database leaks no live session.
sessions_table = Table(
    "handoff_agent_sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("username", String(128), ForeignKey("handoff_agents.username"), nullable=False),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
)

audit_table = Table(
    "handoff_audit",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", UTCDateTime, nullable=False),
    Column("action", String(32), nullable=False),
    Column("actor", Text),
    Column("ticket_id", String(32)),
    Column("client", Text),
    Column("detail", Text),
    Index("ix_handoff_audit_action_at", "action", "at"),
)

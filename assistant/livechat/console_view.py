"""What the agent console shows: tickets as JSON-ready dicts (docs/live-chat.md).

Pure functions of tickets and the clock; the console API only serialises them.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from ..handoff.queue_order import QueueEntry, queue_positions
from ..handoff.schema import now_utc
from ..handoff.tickets import Ticket

PREVIEW = 200  # characters of the last customer message in the queue


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def ticket_summary(
    ticket: Ticket, position: int | None, now: datetime | None = None
) -> dict[str, Any]:
    at = now_utc(now)
    from_customer = [m for m in ticket.messages if m.get("role", "customer") == "customer"]
    return {
        "id": ticket.id,
        "created_at": _iso(ticket.created_at),
        "wait_seconds": max(0, int((at - ticket.created_at).total_seconds())),
        "channel": ticket.channel,
        "reason": ticket.reason,
        "last_question": ticket.last_question,
        "term": ticket.term,
        "candidates": list(ticket.candidates),
        "owner": ticket.owner_name,
        "owner_username": ticket.owner,
        "status": ticket.status,
        "position": position,
        "last_message": from_customer[-1]["text"][:PREVIEW] if from_customer else None,
        "message_count": len(ticket.messages),
    }


def ticket_detail(
    ticket: Ticket, position: int | None, now: datetime | None = None
) -> dict[str, Any]:
    return {
        **ticket_summary(ticket, position, now),
        "transcript": [
            {"role": t.get("role", "user"), "text": t.get("text", ""), "time": t.get("time", "")}
            for t in ticket.transcript
        ],
        "messages": [
            {k: m.get(k) for k in ("id", "role", "author", "text", "time")} for m in ticket.messages
        ],
        "contact": ticket.contact,
        "claimed_at": _iso(ticket.claimed_at),
        "closed_at": _iso(ticket.closed_at),
        "close_reason": ticket.close_reason,
    }


def queue_view(
    tickets: Iterable[Ticket], me: str, agents_available: int, now: datetime | None = None
) -> dict[str, Any]:
    """Open tickets split into waiting (oldest first), mine and others'."""
    open_tickets = [t for t in tickets if t.status == "open"]
    positions = queue_positions([QueueEntry(t.id, t.created_at, t.owner) for t in open_tickets])
    oldest_first = sorted(open_tickets, key=lambda t: (t.created_at, t.id))
    waiting = [t for t in oldest_first if t.owner is None]
    return {
        "waiting": [ticket_summary(t, positions.get(t.id), now) for t in waiting],
        "mine": [ticket_summary(t, None, now) for t in oldest_first if t.owner == me],
        "others": [ticket_summary(t, None, now) for t in oldest_first if t.owner not in (None, me)],
        "agents_available": agents_available,
    }

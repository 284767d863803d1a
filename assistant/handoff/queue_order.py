"""The order of the waiting queue: one definition for the customer's place (the ticket
store) and the agent console's list (assistant/livechat/console_view.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class QueueEntry:
    """What the console shows for one ticket (see docs/live-chat.md, TicketSummary)."""

    ticket_id: str
    created_at: datetime
    owner: str | None


def queue_positions(waiting: list[QueueEntry]) -> dict[str, int]:
    """1-based places of unowned tickets, oldest first."""
    ordered = sorted(
        (e for e in waiting if e.owner is None), key=lambda e: (e.created_at, e.ticket_id)
    )
    return {e.ticket_id: i for i, e in enumerate(ordered, start=1)}

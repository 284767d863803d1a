"""A waiting ticket for the live-chat tests (the ticket store's live side and the console's
views): created at ``T0 + minutes``, no webhook."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from assistant.handoff.tickets import Ticket, TicketStore

T0 = datetime(2026, 11, 24, 10, 0, tzinfo=timezone.utc)


def make(store: TicketStore, sender: str = "cust-1", minutes: int = 0) -> Ticket:
    return store.create(
        sender,
        "socketio",
        "explicit",
        "ACWとは",
        None,
        [],
        [],
        now=T0 + timedelta(minutes=minutes),
        notify=False,
    )

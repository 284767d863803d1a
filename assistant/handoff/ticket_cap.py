"""A cap on new tickets per client and per sender (issue 16, item 6): one client
opened 120 tickets a minute (a new sender id per message), each one a webhook
call and a card in every agent's queue.

A new ticket is refused (the customer is asked to wait, ``rate_limited``) when, in
the last HANDOFF_TICKET_WINDOW_MINUTES (10), the same client opened
HANDOFF_MAX_TICKETS_PER_CLIENT (10) tickets or the same sender
HANDOFF_MAX_TICKETS_PER_SENDER (3). The client is a keyed hash of its address
that the channels put in the message's metadata (``client_key``; none for
loopback and trusted networks, which are not capped); the count lives in the
audit table of the handoff database, so it holds across servers. Webhooks are
sent per new ticket, so they are capped with it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, insert, or_, select
from sqlalchemy.engine import Engine

from ..settings import Settings, get_settings
from .schema import audit_table, now_utc

ACTION = "ticket_opened"


class TicketCapReached(Exception):
    def __init__(self, retry_after: int):
        super().__init__(f"too many new tickets; retry after {retry_after} s")
        self.retry_after = retry_after


@dataclass(frozen=True)
class TicketCapSettings:
    per_client: int = 10
    per_sender: int = 3
    window: timedelta = timedelta(minutes=10)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> TicketCapSettings:
        """HANDOFF_MAX_TICKETS_PER_CLIENT / _PER_SENDER, HANDOFF_TICKET_WINDOW_MINUTES
        (assistant/settings.py; a bad value fails instead of falling back)."""
        s = get_settings() if environ is None else Settings.from_env(environ)
        return cls(
            per_client=s.handoff_max_tickets_per_client,
            per_sender=s.handoff_max_tickets_per_sender,
            window=timedelta(minutes=s.handoff_ticket_window_minutes),
        )


class TicketCap:
    def __init__(self, engine: Engine, settings: TicketCapSettings | None = None):
        self.engine = engine
        self.settings = settings or TicketCapSettings()

    def retry_after(self, sender: str, client_key: str | None, now: datetime | None = None) -> int:
        """0: a new ticket may be opened; else seconds until one may."""
        at = now_utc(now)
        t = audit_table.c
        scopes = [(t.actor == sender, self.settings.per_sender)]
        if client_key:
            scopes.append((t.client == client_key, self.settings.per_client))
        waits = [0]
        for who, limit in scopes:
            if limit <= 0:
                continue
            with self.engine.begin() as conn:
                rows = conn.execute(
                    select(t.at)
                    .where(t.action == ACTION, t.at > at - self.settings.window, who)
                    .order_by(t.at.desc())
                    .limit(limit)
                ).all()
            if len(rows) >= limit:
                oldest = now_utc(rows[-1].at)
                waits.append(max(1, int((oldest + self.settings.window - at).total_seconds()) + 1))
        return max(waits)

    def record(
        self, ticket_id: str, sender: str, client_key: str | None, now: datetime | None = None
    ) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                insert(audit_table).values(
                    at=now_utc(now),
                    action=ACTION,
                    actor=sender,
                    ticket_id=ticket_id,
                    client=client_key,
                )
            )

    def count(self, sender: str | None = None, client_key: str | None = None) -> int:
        t = audit_table.c
        with self.engine.begin() as conn:
            return int(
                conn.execute(
                    select(func.count())
                    .select_from(audit_table)
                    .where(t.action == ACTION, or_(t.actor == sender, t.client == client_key))
                ).scalar_one()
            )

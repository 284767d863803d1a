"""Webhook delivery queue: the delivery state kept in each ticket row.

Design notes
------------
* The queue is the ``delivery_*`` columns of the ticket table, so a ticket is
  committed before any delivery is attempted and its delivery survives
  restarts. Statuses: ``pending`` (due at ``next_attempt_at``), ``delivered``,
  ``failed`` (given up; staff can requeue) and ``disabled`` (no webhook).
* A worker claims a ticket with a lease (``delivery_claimed_until``) in one
  atomic UPDATE, so two workers never POST the same ticket at the same time;
  a worker that dies loses its lease when it runs out.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update

from .sanitize import clean_text
from .schema import now_utc, tickets_table
from .tickets import Ticket, TicketStore, require_ticket


class DeliveryQueue:
    """Webhook delivery bookkeeping of the tickets in ``store``. Every method
    runs in its own short transaction on ``store.engine``."""

    def __init__(self, store: TicketStore):
        self.store = store

    def due_deliveries(self, now: datetime | None = None) -> list[Ticket]:
        """Tickets whose webhook should be (re)tried now: pending, due, and not
        currently being delivered by another worker. Oldest first."""
        at = now_utc(now)
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
        return self.store.select_tickets(stmt)

    def claim_delivery(
        self, ticket_id: str, now: datetime | None = None, lease_seconds: float = 60.0
    ) -> bool:
        """Atomically take the right to POST this ticket for ``lease_seconds``.
        False if it is not pending, not due yet (backoff), or another worker
        holds the lease."""
        at = now_utc(now)
        t = tickets_table.c
        with self.store.engine.begin() as conn:
            require_ticket(conn, ticket_id)
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
            return bool(res.rowcount == 1)

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
        values: dict[str, Any]
        if ok:
            values = {
                "delivery_status": "delivered",
                "next_attempt_at": None,
                "last_delivery_error": None,
            }
        else:
            values = {
                "delivery_status": "pending" if next_attempt_at is not None else "failed",
                "next_attempt_at": next_attempt_at,
                "last_delivery_error": clean_text(error)[:2000] if error else "unknown error",
            }
        with self.store.engine.begin() as conn:
            require_ticket(conn, ticket_id)
            conn.execute(
                update(tickets_table)
                .where(t.id == ticket_id)
                .values(
                    delivery_attempts=t.delivery_attempts + 1, delivery_claimed_until=None, **values
                )
            )
        return self.store.get(ticket_id)

    def requeue_delivery(self, ticket_id: str, now: datetime | None = None) -> Ticket:
        """Put a ``failed`` ticket back in the queue (staff retry after an
        outage). Delivered/disabled tickets are left alone."""
        at = now_utc(now)
        t = tickets_table.c
        with self.store.engine.begin() as conn:
            require_ticket(conn, ticket_id)
            conn.execute(
                update(tickets_table)
                .where(t.id == ticket_id, t.delivery_status == "failed")
                .values(delivery_status="pending", next_attempt_at=at, delivery_claimed_until=None)
            )
        return self.store.get(ticket_id)

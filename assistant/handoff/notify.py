"""Webhook notification of new tickets, with persistent retries.

The ticket is committed before any notification is attempted and the delivery
state lives in the ticket row, so a dead or slow webhook can delay a
notification but never lose or block a ticket. Delivery is at-least-once:
a receiver that answered after our timeout may get the same ticket again, so
receivers should de-duplicate on the ticket id (also sent as the
``Idempotency-Key`` header). What is posted is webhook_format.py's.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from datetime import datetime, timedelta, timezone
from typing import Any

import requests

from .delivery import DeliveryQueue
from .tickets import TicketNotFound, TicketStore
from .webhook_format import FORMATS, build_payload

log = logging.getLogger(__name__)

BACKOFF_BASE_SECONDS = 5.0
BACKOFF_CAP_SECONDS = 600.0
DEFAULT_MAX_ATTEMPTS = 12


def backoff_delay(
    attempts: int, base: float = BACKOFF_BASE_SECONDS, cap: float = BACKOFF_CAP_SECONDS
) -> timedelta:
    """Wait after the ``attempts``-th failed attempt: base, 2·base, 4·base … ≤ cap."""
    exp = min(max(attempts, 1) - 1, 30)
    return timedelta(seconds=min(base * (2**exp), cap))


def _post(
    url: str, payload: dict[str, Any], timeout: float, ticket_id: str
) -> tuple[bool, str | None]:
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "assistant-handoff/1",
        "X-Handoff-Ticket": ticket_id,
        "Idempotency-Key": ticket_id,
    }
    try:
        # No redirects: requests would turn the POST into a GET.
        resp = requests.post(
            url, data=body, headers=headers, timeout=timeout, allow_redirects=False
        )
    except requests.Timeout:
        return False, f"timeout after {timeout}s"
    except requests.RequestException as exc:
        return False, f"{type(exc).__name__}: {exc}"[:500]
    if 200 <= resp.status_code < 300:
        return True, None
    return False, f"HTTP {resp.status_code}: {resp.text[:200]}"


def deliver(
    store: TicketStore,
    ticket_id: str,
    url: str,
    fmt: str = "json",
    timeout: float = 3.0,
    *,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    now: datetime | None = None,
) -> bool:
    """POST one ticket and record the outcome. True if the ticket is delivered
    (now, or already before). A ticket that is not due yet (backoff), being
    sent by another worker, failed or disabled is not posted. Never raises."""
    try:
        if fmt not in FORMATS:
            raise ValueError(f"unknown webhook format {fmt!r}")
        started = now or datetime.now(timezone.utc)
        deliveries = DeliveryQueue(store)
        # The lease outlives the POST, so no other worker sends it meanwhile.
        if not deliveries.claim_delivery(ticket_id, started, lease_seconds=2 * timeout + 30):
            return store.get(ticket_id).delivery_status == "delivered"
        ticket = store.get(ticket_id)
        ok, error = _post(url, build_payload(ticket, fmt), timeout, ticket.id)
    except TicketNotFound:
        log.error("webhook: ticket %s does not exist", ticket_id)
        return False
    except Exception:
        log.exception("webhook: could not deliver %s", ticket_id)
        return False

    try:
        attempts = ticket.delivery_attempts + 1
        if ok or attempts >= max_attempts:
            next_at = None
        else:
            next_at = (now or datetime.now(timezone.utc)) + backoff_delay(attempts)
        deliveries.record_delivery(ticket_id, ok, error, next_at)
        if not ok:
            log.warning(
                "webhook: %s attempt %d failed (%s); %s",
                ticket_id,
                attempts,
                error,
                f"next at {next_at.isoformat()}" if next_at else "giving up",
            )
    except Exception:
        # The lease expires, so the ticket will be tried again.
        log.exception("webhook: could not record delivery of %s", ticket_id)
    return ok


class WebhookNotifier:
    """Delivers ticket notifications from a background daemon thread.

    ``notify_async`` only enqueues, so the user's reply never waits on the
    webhook. The thread also retries due deliveries every ``poll_interval``
    seconds, which covers failed attempts and tickets left pending by a
    process that died. With an empty ``url`` everything is a no-op.
    """

    def __init__(
        self,
        store: TicketStore,
        url: str | None,
        fmt: str = "json",
        timeout: float = 3.0,
        poll_interval: float = 2.0,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    ):
        if fmt not in FORMATS:
            raise ValueError(f"unknown webhook format {fmt!r}; use one of {FORMATS}")
        self.store = store
        self.deliveries = DeliveryQueue(store)
        self.url = url or ""
        self.fmt = fmt
        self.timeout = float(timeout)
        self.poll_interval = float(poll_interval)
        self.max_attempts = int(max_attempts)
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    @property
    def enabled(self) -> bool:
        return bool(self.url)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        if not self.enabled:
            return
        with self._lock:
            if self.running:
                return
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="handoff-webhook", daemon=True)
            self._thread.start()

    def stop(self, timeout: float | None = None) -> None:
        """Stop the thread (waits for an in-flight POST up to ``timeout``).
        Undelivered tickets stay pending in the store."""
        self._stop.set()
        self._queue.put(None)
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(self.timeout + 5 if timeout is None else timeout)

    def notify_async(self, ticket_id: str) -> None:
        if not self.enabled:
            return
        self._queue.put(ticket_id)
        self.start()

    def drain(self, timeout: float = 10.0) -> bool:
        """Wait until queued notifications were attempted (tests, shutdown)."""
        deadline = time.monotonic() + timeout
        while self._queue.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(0.02)
        return not self._queue.unfinished_tasks

    def retry_due(self, now: datetime | None = None) -> dict[str, bool]:
        """Deliver every due ticket now. Returns {ticket_id: delivered}."""
        if not self.enabled:
            return {}
        results = {}
        for ticket in self.deliveries.due_deliveries(now):
            results[ticket.id] = self._deliver(ticket.id, now)
        return results

    def _deliver(self, ticket_id: str, now: datetime | None = None) -> bool:
        return deliver(
            self.store,
            ticket_id,
            self.url,
            self.fmt,
            self.timeout,
            max_attempts=self.max_attempts,
            now=now,
        )

    def _run(self) -> None:
        next_retry = 0.0  # first loop: deliver what an earlier process left
        while not self._stop.is_set():
            try:
                if time.monotonic() >= next_retry:
                    self.retry_due()
                    next_retry = time.monotonic() + self.poll_interval
                try:
                    item = self._queue.get(timeout=max(0.01, next_retry - time.monotonic()))
                except queue.Empty:
                    continue
                try:
                    if item is not None and not self._stop.is_set():
                        self._deliver(item)
                finally:
                    self._queue.task_done()
            except Exception:
                log.exception("webhook worker: unexpected error")
                self._stop.wait(self.poll_interval)
        # Items left in the queue are pending in the store; mark them done.
        while True:
            try:
                self._queue.get_nowait()
                self._queue.task_done()
            except queue.Empty:
                break

"""The cap on new tickets per client and per sender (assistant/handoff/ticket_cap.py)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from assistant.handoff.service import HandoffRequest, HandoffService
from assistant.handoff.ticket_cap import TicketCap, TicketCapReached, TicketCapSettings

T0 = datetime(2026, 12, 5, 1, 0, tzinfo=timezone.utc)


def test_per_client_then_released(store):
    cap = TicketCap(store.engine, TicketCapSettings(per_client=3, per_sender=3))
    for i in range(3):
        assert cap.retry_after(f"s{i}", "c-1", now=T0) == 0
        cap.record(f"ESC-{i}", f"s{i}", "c-1", now=T0 + timedelta(seconds=i))
    wait = cap.retry_after("s9", "c-1", now=T0 + timedelta(seconds=5))
    assert 0 < wait <= 600
    assert cap.retry_after("s9", "c-2", now=T0 + timedelta(seconds=5)) == 0  # another client
    assert cap.retry_after("s9", None, now=T0 + timedelta(seconds=5)) == 0  # trusted: no key
    assert cap.retry_after("s9", "c-1", now=T0 + timedelta(minutes=11)) == 0


def test_per_sender(store):
    cap = TicketCap(store.engine, TicketCapSettings(per_client=10, per_sender=2))
    cap.record("ESC-1", "same", "c-1", now=T0)
    cap.record("ESC-2", "same", "c-2", now=T0)
    assert cap.retry_after("same", "c-3", now=T0) > 0


def test_the_service_refuses_a_new_ticket_but_not_the_open_one(store):
    cap = TicketCap(store.engine, TicketCapSettings(per_client=1, per_sender=5))
    service = HandoffService(store, cap=cap)
    first = service.open(HandoffRequest("a", "rest", "explicit", "人と話したい", client_key="c-9"))
    assert first.created
    again = service.open(HandoffRequest("a", "rest", "explicit", "まだですか", client_key="c-9"))
    assert not again.created and again.ticket.id == first.ticket.id  # the open ticket: no cap
    with pytest.raises(TicketCapReached):
        service.open(HandoffRequest("b", "rest", "explicit", "人と話したい", client_key="c-9"))
    assert store.open_for_sender("b") is None


def test_settings_from_env():
    s = TicketCapSettings.from_env({"HANDOFF_MAX_TICKETS_PER_CLIENT": "4"})
    assert s.per_client == 4 and s.per_sender == 3 and s.window == timedelta(minutes=10)
    # A bad value fails naming the variable (it used to fall back to the default silently).
    with pytest.raises(ValueError, match="HANDOFF_MAX_TICKETS_PER_SENDER='x'"):
        TicketCapSettings.from_env({"HANDOFF_MAX_TICKETS_PER_SENDER": "x"})

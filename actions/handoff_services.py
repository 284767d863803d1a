"""The action server's ticket store, business hours and webhook notifier (one each).

Created on first use; `start()` at import of handoff_actions so tickets whose
webhook was pending when the server last stopped are delivered on start.
"""
from __future__ import annotations

from functools import lru_cache

from assistant.handoff.agents import AgentDirectory
from assistant.handoff.hours import BusinessHours, load_hours
from assistant.handoff.notify import WebhookNotifier
from assistant.handoff.service import HandoffService
from assistant.handoff.settings import HandoffSettings
from assistant.handoff.tickets import TicketStore

from .common import matcher


@lru_cache(maxsize=1)
def settings() -> HandoffSettings:
    return HandoffSettings.from_env()


@lru_cache(maxsize=1)
def store() -> TicketStore:
    return TicketStore(settings().db_url)


@lru_cache(maxsize=1)
def agents() -> AgentDirectory:
    """Who is available: the handoff reply says whether a person can answer now."""
    return AgentDirectory(store().engine)


@lru_cache(maxsize=1)
def hours() -> BusinessHours:
    return load_hours(settings().hours_file)


@lru_cache(maxsize=1)
def notifier() -> WebhookNotifier:
    s = settings()
    n = WebhookNotifier(
        store(), s.webhook_url, fmt=s.webhook_format, timeout=s.webhook_timeout,
        max_attempts=s.webhook_max_attempts,
    )
    n.start()
    return n


def handoff() -> HandoffService:
    """Opening tickets and adding to them, on the current store (assistant/handoff/service.py)."""
    return HandoffService(
        store(), settings().webhook_url, notifier, suggest=lambda q: matcher().suggest(q)
    )

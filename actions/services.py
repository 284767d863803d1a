"""The action server's composition root: the content, the ticket store, business
hours, the agent directory, the webhook notifier, the trainer and the handoff
service, each built on first use and shared by every action.

Nothing is built at import: `start()` runs when the server starts (webhook
delivery, and retries of tickets left pending when it last stopped; see
rasa_runtime/actions.py), and `reset()` forgets everything (tests, a new
glossary file, another HANDOFF_DB_URL).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import _lru_cache_wrapper, lru_cache
from typing import Any, TypeVar

from assistant import routing
from assistant.content.live import LiveContent
from assistant.content.model import Content
from assistant.faq import FaqEntry
from assistant.glossary import Glossary
from assistant.handoff.hours import BusinessHours, load_hours
from assistant.handoff.notify import WebhookNotifier
from assistant.handoff.service import HandoffService
from assistant.handoff.settings import HandoffSettings
from assistant.handoff.ticket_cap import TicketCap, TicketCapSettings
from assistant.handoff.tickets import TicketStore
from assistant.livechat.agents import AgentDirectory
from assistant.matcher import TermMatcher
from assistant.outcomes.log import OutcomeLog
from assistant.training.session import Trainer
from assistant.training.store import TrainingStore

T = TypeVar("T")
_BUILT: list[_lru_cache_wrapper[Any]] = []


def _once(build: Callable[[], T]) -> _lru_cache_wrapper[T]:
    cached = lru_cache(maxsize=1)(build)
    _BUILT.append(cached)
    return cached


# -- content (live: the content studio's database, refreshed when it changes) --


@_once
def live_content() -> LiveContent:
    """Seeded from data/glossary.yml + data/faq.yml on the first start (docs/content-studio.md)."""
    return LiveContent(store().engine).start()


def content() -> Content:
    """The current revision: a turn takes it once (actions/turn.py) and keeps it."""
    return live_content().current


def glossary() -> Glossary:
    return content().glossary


def matcher() -> TermMatcher:
    return content().matcher


def faq_entries() -> dict[str, FaqEntry]:
    return dict(content().faqs)


def knowledge() -> routing.Knowledge:
    return content().knowledge


# -- handoff ------------------------------------------------------------------


@_once
def settings() -> HandoffSettings:
    return HandoffSettings.from_env()


@_once
def store() -> TicketStore:
    return TicketStore(settings().db_url)


@_once
def agents() -> AgentDirectory:
    """Who is available: the handoff reply says whether a person can answer now."""
    return AgentDirectory(store().engine)


@_once
def hours() -> BusinessHours:
    return load_hours(settings().hours_file)


@_once
def notifier() -> WebhookNotifier:
    s = settings()
    n = WebhookNotifier(
        store(),
        s.webhook_url,
        fmt=s.webhook_format,
        timeout=s.webhook_timeout,
        max_attempts=s.webhook_max_attempts,
    )
    n.start()
    return n


@_once
def handoff() -> HandoffService:
    """Opening tickets and adding to them (assistant/handoff/service.py)."""
    return HandoffService(
        store(),
        settings().webhook_url,
        notifier,
        suggest=matcher().suggest,
        cap=TicketCap(store().engine, TicketCapSettings.from_env()),
    )


# -- outcome log (analytics) ---------------------------------------------------


@_once
def outcomes() -> OutcomeLog:
    """Outcome records, written off the turn by a background thread (same database)."""
    return OutcomeLog(store().engine)


# -- training -----------------------------------------------------------------


@_once
def training_store() -> TrainingStore:
    """Trainees' progress, on the ticket store's database (one handoff database)."""
    return TrainingStore(store().engine)


def trainer(revision: Content | None = None) -> Trainer:
    """Quizzes on the live content, like the answers: on the given revision (the turn's,
    actions/turn.py) or the current one. A term added, fixed or disabled in the content
    studio is quizzed (or no longer) from the next turn; built per call (it holds no state)."""
    return Trainer(training_store(), (revision or content()).glossary)


# -----------------------------------------------------------------------------


def start() -> None:
    """At server start: the content (seeded on the first start) and its watcher, then
    webhook delivery and retries of pending tickets."""
    live_content()
    notifier()


def reset() -> None:
    """Forget everything built (the notifier's thread is stopped)."""
    if notifier.cache_info().currsize:
        notifier().stop(timeout=1.0)
    if live_content.cache_info().currsize:
        live_content().stop(timeout=1.0)
    if outcomes.cache_info().currsize:
        outcomes().stop(timeout=1.0)
    for built in _BUILT:
        built.cache_clear()

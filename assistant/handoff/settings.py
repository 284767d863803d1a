"""Handoff settings from environment variables, and factories built on them.

HANDOFF_DB_URL               SQLAlchemy URL (default: sqlite:///<repo>/var/handoff.db)
HANDOFF_WEBHOOK_URL          webhook for new tickets; unset/empty = no webhook
HANDOFF_WEBHOOK_FORMAT       json (default) | slack
HANDOFF_WEBHOOK_TIMEOUT      seconds per POST (default 3)
HANDOFF_WEBHOOK_MAX_ATTEMPTS attempts before a delivery is marked failed (default 12)
HANDOFF_HOURS_FILE           business hours YAML (default: <repo>/config/business_hours.yml)

Bad values raise ValueError at start-up rather than being silently replaced (declared,
parsed and documented once in assistant/settings.py).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ..settings import Settings, get_settings
from .hours import BusinessHours, load_hours
from .notify import DEFAULT_MAX_ATTEMPTS, WebhookNotifier
from .tickets import TicketStore

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DB_URL = f"sqlite:///{REPO_ROOT / 'var' / 'handoff.db'}"
DEFAULT_HOURS_FILE = REPO_ROOT / "config" / "business_hours.yml"


@dataclass(frozen=True)
class HandoffSettings:
    db_url: str = DEFAULT_DB_URL
    webhook_url: str = ""
    webhook_format: str = "json"
    webhook_timeout: float = 3.0
    webhook_max_attempts: int = DEFAULT_MAX_ATTEMPTS
    hours_file: str = str(DEFAULT_HOURS_FILE)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> HandoffSettings:
        s = get_settings() if environ is None else Settings.from_env(environ)
        hours = s.handoff_hours_file
        if not os.path.isabs(hours):
            hours = str(REPO_ROOT / hours)  # relative to the repo, not the cwd
        return cls(
            db_url=s.handoff_db_url or DEFAULT_DB_URL,
            webhook_url=s.handoff_webhook_url,
            webhook_format=s.handoff_webhook_format,
            webhook_timeout=s.handoff_webhook_timeout,
            webhook_max_attempts=s.handoff_webhook_max_attempts,
            hours_file=hours,
        )


def store_from_env(settings: HandoffSettings | None = None) -> TicketStore:
    """TicketStore on HANDOFF_DB_URL (the SQLite folder is created if needed)."""
    s = settings or HandoffSettings.from_env()
    return TicketStore(s.db_url)


def notifier_from_env(
    store: TicketStore | None = None, settings: HandoffSettings | None = None
) -> WebhookNotifier:
    """WebhookNotifier for HANDOFF_WEBHOOK_*; a no-op one when no URL is set.
    Not started: call ``start()`` (or just ``notify_async``)."""
    s = settings or HandoffSettings.from_env()
    return WebhookNotifier(
        store or store_from_env(s),
        s.webhook_url,
        fmt=s.webhook_format,
        timeout=s.webhook_timeout,
        max_attempts=s.webhook_max_attempts,
    )


def hours_from_env(settings: HandoffSettings | None = None) -> BusinessHours:
    s = settings or HandoffSettings.from_env()
    return load_hours(s.hours_file)

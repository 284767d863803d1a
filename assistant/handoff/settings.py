"""Handoff settings from environment variables, and factories built on them.

HANDOFF_DB_URL               SQLAlchemy URL (default: sqlite:///<repo>/var/handoff.db)
HANDOFF_WEBHOOK_URL          webhook for new tickets; unset/empty = no webhook
HANDOFF_WEBHOOK_FORMAT       json (default) | slack
HANDOFF_WEBHOOK_TIMEOUT      seconds per POST (default 3)
HANDOFF_WEBHOOK_MAX_ATTEMPTS attempts before a delivery is marked failed (default 12)
HANDOFF_HOURS_FILE           business hours YAML (default: <repo>/config/business_hours.yml)

Bad values raise ValueError at start-up rather than being silently replaced.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .hours import BusinessHours, load_hours
from .notify import DEFAULT_MAX_ATTEMPTS, WebhookNotifier
from .tickets import TicketStore
from .webhook_format import FORMATS

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
        env = os.environ if environ is None else environ

        def get(name: str) -> str:
            return (env.get(name) or "").strip()

        fmt = get("HANDOFF_WEBHOOK_FORMAT").lower() or "json"
        if fmt not in FORMATS:
            raise ValueError(f"HANDOFF_WEBHOOK_FORMAT must be one of {FORMATS}, got {fmt!r}")
        timeout = _number("HANDOFF_WEBHOOK_TIMEOUT", get("HANDOFF_WEBHOOK_TIMEOUT"), 3.0, float)
        attempts = _number(
            "HANDOFF_WEBHOOK_MAX_ATTEMPTS",
            get("HANDOFF_WEBHOOK_MAX_ATTEMPTS"),
            DEFAULT_MAX_ATTEMPTS,
            int,
        )
        hours = get("HANDOFF_HOURS_FILE") or str(DEFAULT_HOURS_FILE)
        if not os.path.isabs(hours):
            hours = str(REPO_ROOT / hours)  # relative to the repo, not the cwd
        return cls(
            db_url=get("HANDOFF_DB_URL") or DEFAULT_DB_URL,
            webhook_url=get("HANDOFF_WEBHOOK_URL"),
            webhook_format=fmt,
            webhook_timeout=timeout,
            webhook_max_attempts=attempts,
            hours_file=hours,
        )


def _number(name: str, raw: str, default: Any, kind: Callable[[str], Any]) -> Any:
    if not raw:
        return default
    try:
        value = kind(raw)
    except ValueError:
        raise ValueError(f"{name} must be a number, got {raw!r}") from None
    if value <= 0:
        raise ValueError(f"{name} must be > 0, got {raw!r}")
    return value


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

"""How long personal data is kept, from environment variables (days; 0 = keep forever).

RETENTION_CONVERSATIONS_DAYS  tracker events (default 90)
RETENTION_TICKETS_DAYS        closed tickets are anonymised, their messages deleted (default 90)
RETENTION_TRAINING_DAYS       training answers, sessions, boxes, gaps (default 365)
RETENTION_AUDIT_DAYS          console audit log (default 365; forget entries are kept)
RETENTION_OUTCOMES_DAYS       analytics outcome log (questions as typed), the roll-ups' missed
                              questions and user hashes (default 400: KPIs compare a month
                              with the same month a year before); roll-up counts are kept

A malformed value raises ValueError (purge refuses to run rather than guess). Declared,
parsed and documented in assistant/settings.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import datetime, timedelta

from ..settings import Settings, get_settings


@dataclass(frozen=True)
class RetentionSettings:
    conversations_days: int = 90
    tickets_days: int = 90
    training_days: int = 365
    audit_days: int = 365
    outcomes_days: int = 400

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> RetentionSettings:
        s = get_settings() if environ is None else Settings.from_env(environ)
        return cls(**{f.name: getattr(s, f"retention_{f.name}") for f in fields(cls)})

    def cutoff(self, field_name: str, now: datetime) -> datetime | None:
        """The moment before which data under ``field_name`` is purged (None: kept)."""
        days = int(getattr(self, field_name))
        return None if days == 0 else now - timedelta(days=days)

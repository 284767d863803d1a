"""Cleaning of user text before it is stored.

User text is stored as is, except NUL (PostgreSQL rejects it in text) and
lone surrogates (not encodable as UTF-8), which would otherwise make the
insert fail and lose the whole ticket.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any


def clean_text(value: Any) -> str:
    """Make user text storable on every backend without losing anything else."""
    text = value if isinstance(value, str) else str(value)
    text = text.replace("\x00", "")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        # Lone surrogates (e.g. from a broken client) -> U+FFFD; valid pairs are
        # recombined by the UTF-16 round trip.
        text = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return text


def clean_optional(value: Any) -> str | None:
    return None if value is None else clean_text(value)


def clean_json(value: Any) -> Any:
    """Recursively clean strings; datetimes become ISO strings."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {clean_text(k): clean_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean_json(v) for v in value]
    if value is None or isinstance(value, (bool, int, float)):
        return value
    return clean_text(value)


def normalize_transcript(transcript: Iterable[Any] | None) -> list[dict[str, Any]]:
    out = []
    for turn in transcript or []:
        # Not a dict: keep whatever we were given rather than dropping it.
        item = clean_json(dict(turn)) if isinstance(turn, dict) else {"text": clean_text(turn)}
        item.setdefault("role", "user")
        item.setdefault("text", "")
        item.setdefault("time", "")
        out.append(item)
    return out

"""Conversation transcript from Rasa tracker events (plain dicts, no Rasa import).

Staff read it on the ticket so the customer need not repeat themselves.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timezone

MAX_ENTRIES = 100
MAX_TEXT = 10_000


def transcript_from_events(events: Iterable[Mapping]) -> list[dict]:
    """User and bot messages in order, each {"role", "text", "time"} (time ISO 8601 UTC)."""
    out: list[dict] = []
    for e in events:
        kind = e.get("event")
        if kind not in ("user", "bot"):
            continue
        text = e.get("text")
        if text is None:
            continue  # a bot event that only carried a custom payload
        ts = e.get("timestamp")
        when = (
            datetime.fromtimestamp(ts, tz=timezone.utc).isoformat()
            if isinstance(ts, (int, float))
            else None
        )
        out.append({"role": kind, "text": str(text)[:MAX_TEXT], "time": when})
    return out[-MAX_ENTRIES:]


def last_user_question(events: Iterable[Mapping], skip_intents: Iterable[str] = ()) -> str:
    """The latest user text whose intent is a real question (not 「はい」 or 「人と話したい」)."""
    skip = set(skip_intents)
    last = ""
    for e in events:
        if e.get("event") == "user" and e.get("text"):
            intent = ((e.get("parse_data") or {}).get("intent") or {}).get("name")
            if intent not in skip:
                last = str(e["text"])
    return last[:MAX_TEXT]

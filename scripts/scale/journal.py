"""The journal's record of one tagged client message, shared by the locust users
(locustfile.py) and the kill-a-server load (run.py); verify.py reads them back."""

from __future__ import annotations

import uuid
from typing import Any


def journal_record(
    channel: str, sender: str, text: str, step: str, first_sent: float | None = None
) -> dict[str, Any]:
    tag = uuid.uuid4().hex[:16]
    return {
        "tag": tag,
        "channel": channel,
        "sender": sender,
        "text": f"{text} #{tag}",
        "step": step,
        "attempts": 0,
        "errors": [],
        "acked": False,
        "latency_ms": None,
        "kinds": [],
        "ticket": None,
        "first_sent": first_sent,
        "interrupted": False,
        # exactly once: every attempt of this message carries the same id (docs/reliability.md)
        "message_id": str(uuid.uuid4()),
    }

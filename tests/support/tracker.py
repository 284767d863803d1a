"""Read the conversation as Rasa stored it: the SQLite tracker store that
devtools/launch.py gives each test server (``<workdir>/tracker.db``)."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path


def events(workdir: Path, sender: str) -> list[dict]:
    con = sqlite3.connect(Path(workdir) / "tracker.db")
    try:
        rows = con.execute(
            "SELECT data FROM events WHERE sender_id = ? ORDER BY id", (sender,)
        ).fetchall()
    finally:
        con.close()
    return [json.loads(r[0]) for r in rows]


def user_texts(workdir: Path, sender: str, wait: float = 5.0) -> list[str]:
    """The user messages' texts; waits up to ``wait`` s for the first one (Rasa saves
    the tracker just after it sends the replies)."""
    deadline = time.monotonic() + wait
    while True:
        found = [e.get("text") or "" for e in events(workdir, sender) if e.get("event") == "user"]
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.1)

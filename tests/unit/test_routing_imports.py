"""The router is pure decision logic: importing it loads no database or HTTP library
(checked in a fresh interpreter, where nothing else has imported them yet)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

HEAVY = ("sqlalchemy", "requests", "aiohttp", "httpx")

_PROBE = """
import sys
import {module}
heavy = {heavy!r}
print(sorted({{m.split(".")[0] for m in sys.modules if m.split(".")[0] in heavy}}))
"""


def _loaded(module: str) -> str:
    out = subprocess.run(
        [sys.executable, "-c", _PROBE.format(module=module, heavy=HEAVY)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    return out.stdout.strip()


def test_import_routing_loads_no_database_or_http_library() -> None:
    assert _loaded("assistant.routing") == "[]"


def test_handoff_replies_load_no_database_or_http_library() -> None:
    # Channels and actions import the handoff texts; the package itself imports nothing.
    assert _loaded("assistant.handoff.replies") == "[]"


def test_the_probe_sees_a_heavy_import() -> None:
    # The check can fail: the ticket store does pull in SQLAlchemy.
    assert "sqlalchemy" in _loaded("assistant.handoff.tickets")


def test_webhook_formatting_loads_no_http_library() -> None:
    # What a webhook says (handoff/webhook_format.py) is apart from how it is sent (notify.py).
    assert "requests" not in _loaded("assistant.handoff.webhook_format")
    assert "requests" in _loaded("assistant.handoff.notify")
